"""``complement gate``: pass on identical reports, 1 on damaged embeddings, 3 when not
comparable, 2 for malformed rules or paths."""

from __future__ import annotations

import json
import shutil

import numpy as np
from reportdata import dataset, load, report

from complement.cli.app import app


def _gate(runner, current, baseline, *args):
    return runner.invoke(app, ["gate", str(current), "--baseline", str(baseline), *map(str, args)])


def test_identical_reports_pass(runner, tmp_path):
    base = report(dataset("base"))
    verdicts = tmp_path / "gate.json"
    result = _gate(runner, base, base, "--json", verdicts)
    assert result.exit_code == 0, result.output
    doc = load(verdicts)
    assert doc["schema"] == "complement.gate/1" and doc["passed"] and doc["regressions"] == 0
    paths = {c["path"] for c in doc["checks"]}
    assert {"hits.k.10.recall.collaborative", "oracle.k.10.oracle.budget"} <= paths
    assert "overlap.k.10.overlap" in paths and "structure.shared_dim" in paths
    assert all(c["verdict"] == "pass" and c["delta"] in (0, None) for c in doc["checks"])
    assert "all" in result.output and "checks pass" in result.output


def test_shuffled_collaborative_rows_fail(runner, tmp_path):
    base = report(dataset("base"))
    damaged = report(dataset("damaged", damaged=True))
    verdicts = tmp_path / "gate.json"
    result = _gate(runner, damaged, base, "--json", verdicts)
    assert result.exit_code == 1, result.output
    doc = load(verdicts)
    assert not doc["passed"] and doc["comparable"]["ok"]
    failed = {c["path"]: c for c in doc["checks"] if c["verdict"] == "regression"}
    recall = failed["hits.k.10.recall.collaborative"]
    assert recall["test"] == "interval" and recall["current"] < recall["baseline"]
    assert recall["decided_by"].startswith("interval: drop ")
    assert "hits.k.10.recall.semantic" not in failed  # the semantic view is untouched
    assert "REGRESSION" in result.output
    # a generous explicit rule lets the same drop pass
    rules = tmp_path / "loose.toml"
    rules.write_text('[[rule]]\npath = "hits.k.10.recall.collaborative"\nmax_drop_abs = 0.9\n')
    assert _gate(runner, damaged, base, "--rules", rules).exit_code == 0


def test_different_cutoff_is_not_comparable(runner, tmp_path):
    config = dataset("base")
    base = load(report(config))
    cutoff = base["provenance"]["split"]["cutoff"] + 500
    other = report(config, "--cutoff", str(cutoff))
    result = _gate(runner, other, report(config), "--json", tmp_path / "g.json")
    assert result.exit_code == 3, result.output
    assert "not comparable: split cutoff differs" in result.output
    assert "--allow-incomparable" in result.output
    assert load(tmp_path / "g.json")["comparable"]["ok"] is False
    result = _gate(runner, other, report(config), "--allow-incomparable")
    assert result.exit_code in (0, 1), result.output


def test_malformed_rules_and_inputs_exit_2(runner, tmp_path):
    base = report(dataset("base"))
    cases = {
        "[[rule]\npath = 'x'\n": "not valid TOML",
        "[[rule]]\nmin = 0.1\n": "missing path",
        "[[rule]]\npath = 'overlap.k.10.overlap'\nminimum = 0.1\n": "unknown key 'minimum'",
        "[[rule]]\npath = 'overlap.k.10.overlap'\nmin = 'high'\n": "must be a number",
        "[[rule]]\npath = 'overlap.k.99.overlap'\nmin = 0.1\n": "does not exist in the baseline",
    }
    for text, message in cases.items():
        rules = tmp_path / "rules.toml"
        rules.write_text(text)
        result = _gate(runner, base, base, "--rules", rules)
        assert result.exit_code == 2, (text, result.output)
        lines = [line for line in result.output.splitlines() if line.strip()]
        assert len(lines) == 1 and message in lines[0], result.output
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    other = tmp_path / "other.json"
    other.write_text(json.dumps({"k": 1}))
    for current, message in (
        (tmp_path / "missing.json", "file not found"),
        (bad, "not valid JSON"),
        (other, "not a complement JSON document"),
    ):
        result = _gate(runner, current, base)
        assert result.exit_code == 2 and message in result.output, result.output
    result = runner.invoke(app, ["gate", str(base)])
    assert result.exit_code == 2 and "--baseline" in result.output


def test_rules_on_single_section_documents(runner, tmp_path):
    config = dataset("base")
    for name in ("a", "b"):
        result = runner.invoke(
            app, ["overlap", "--config", str(config), "--json", str(tmp_path / f"{name}.json")]
        )
        assert result.exit_code == 0, result.output
    rules = tmp_path / "rules.toml"
    rules.write_text(
        "[[rule]]\npath = 'k.10.overlap'\nmin = 0.99\n"
        "[[rule]]\npath = 'cka_linear'\nmax_drop_rel = 0.05\n"
    )
    result = _gate(runner, tmp_path / "a.json", tmp_path / "b.json", "--rules", rules,
                   "--json", tmp_path / "g.json")  # fmt: skip
    assert result.exit_code == 1
    checks = load(tmp_path / "g.json")["checks"]
    assert [c["verdict"] for c in checks] == ["regression", "pass"]
    # a single-section document is not comparable with a full report
    result = _gate(runner, tmp_path / "a.json", report(config))
    assert result.exit_code == 3 and "schema differs" in result.output


def test_verdict_as_markdown_for_pull_requests(runner, tmp_path):
    base = report(dataset("base"))
    damaged = report(dataset("damaged", damaged=True))
    md, verdicts = tmp_path / "gate.md", tmp_path / "gate.json"
    result = _gate(runner, damaged, base, "--json", verdicts, "--markdown", md)
    assert result.exit_code == 1, result.output
    text = md.read_text()
    header = next(line for line in text.splitlines() if line.startswith("| path"))
    for column in ("baseline", "current", "delta", "verdict"):
        assert column in header
    doc = load(verdicts)
    for check in doc["checks"]:
        assert check["path"].replace("_", "\\_") in text
    assert text.count("| REGRESSION |") == doc["regressions"] > 0


def _one_line(result) -> str:
    lines = [line for line in result.output.splitlines() if line.strip()]
    return lines[-1]


def test_a_different_probe_shift_is_not_comparable(runner):
    config = dataset("base")
    popularity, shifted = report(config), report(config, "--shift", "random")
    for current, baseline, says in (
        (shifted, popularity, "probe shift kind differs (baseline popularity, current random)"),
        (popularity, shifted, "probe shift kind differs (baseline random, current popularity)"),
    ):
        result = _gate(runner, current, baseline)
        assert result.exit_code == 3, result.output
        assert says in _one_line(result) and "--allow-incomparable" in _one_line(result)
        assert _gate(runner, current, baseline, "--allow-incomparable").exit_code in (0, 1)


def test_a_different_interaction_log_is_not_comparable(runner, tmp_path):
    base_config = dataset("base")
    folder = tmp_path / "fewer-users"
    shutil.copytree(base_config.parent, folder)
    head, *rows = (folder / "log.csv").read_text().splitlines()
    kept = [row for row in rows if int(row.split(",")[0]) % 3 != 2]  # every third user dropped
    (folder / "log.csv").write_text("\n".join([head, *kept]) + "\n")
    result = _gate(runner, report(folder / "complement.toml"), report(base_config))
    assert result.exit_code == 3, result.output
    line = _one_line(result)
    assert "interaction log sha256 differs (baseline " in line
    assert "split size in rows (train, valid, test) differs" in line


def test_a_random_split_under_another_seed_is_not_comparable(runner):
    config = dataset("base")
    seed0 = report(config, "--split", "random", "--seed", "0")
    seed1 = report(config, "--split", "random", "--seed", "1")
    result = _gate(runner, seed1, seed0)
    assert result.exit_code == 3, result.output
    assert "split seed differs (baseline 0, current 1)" in _one_line(result)
    assert _gate(runner, seed0, seed0).exit_code == 0


def test_a_different_k_list_is_not_comparable(runner, tmp_path):
    config = dataset("base")  # k = [5, 10]: the default rules gate k = 10
    result = _gate(runner, report(config, "--k", "5"), report(config))
    assert result.exit_code == 3, result.output
    assert "k list differs (baseline [5, 10], current [5])" in _one_line(result)
    assert "does not exist" not in result.output
    # compared anyway: the default rules gate a k both reports hold
    verdicts = tmp_path / "g.json"
    result = _gate(runner, report(config, "--k", "5"), report(config), "--allow-incomparable",
                   "--json", verdicts)  # fmt: skip
    assert result.exit_code in (0, 1), result.output
    paths = {c["path"] for c in load(verdicts)["checks"]}
    assert "overlap.k.5.overlap" in paths and not any(".k.10." in p for p in paths)


def test_markdown_header_names_the_reports_items_and_split(runner, tmp_path):
    from complement import __version__

    config = dataset("base")
    md = tmp_path / "gate.md"
    result = _gate(runner, report(config), report(config), "--markdown", md)
    assert result.exit_code == 0, result.output
    assert (
        md.read_text().splitlines()[2] == f"160 items · split temporal · complement {__version__}"
    )
    result = _gate(runner, report(config, "--split", "random", "--seed", "0"), report(config),
                   "--allow-incomparable", "--markdown", md)  # fmt: skip
    assert result.exit_code in (0, 1), result.output
    assert md.read_text().splitlines()[2].startswith("160 items · split temporal → random · ")


def _rules_refused(runner, tmp_path, text: str) -> str:
    """The one line (exit 2) of a gate of the base report against itself under ``text``."""
    base = report(dataset("base"))
    rules = tmp_path / "gate.toml"
    rules.write_text(text)
    result = _gate(runner, base, base, "--rules", rules)
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in result.output
    return lines[0]


def test_rule_whose_min_is_above_its_max_is_refused(runner, tmp_path):
    line = _rules_refused(
        runner, tmp_path, "[[rule]]\npath = 'overlap.k.10.overlap'\nmin = 0.1\nmax = 0.05\n"
    )
    assert "gate.toml rule 1: rule 'overlap.k.10.overlap': min = 0.1 is above max = 0.05" in line


def test_user_embeddings_in_one_report_only_are_not_comparable(runner, tmp_path):
    """The baseline scored the collaborative view's users by their embeddings (cf_users), the
    current one by their history: the same Recall computed two ways, exit 3."""
    config = dataset("base")
    users = config.parent / "cf_users.npy"
    if not users.exists():
        np.save(users, np.random.default_rng(0).standard_normal((80, 8)).astype(np.float32))
        (config.parent / "user_ids.txt").write_text("".join(f"{u}\n" for u in range(80)))
    with_users = report(config, "--cf-users", str(users),
                        "--cf-users-ids", str(config.parent / "user_ids.txt"))  # fmt: skip
    verdicts = tmp_path / "g.json"
    result = _gate(runner, report(config), with_users, "--json", verdicts)
    assert result.exit_code == 3, result.output
    assert (
        "hits scoring of collaborative differs (baseline inner product with user embeddings, "
        "current cosine to the mean of the user's L2-normalised history items)"
    ) in _one_line(result)
    checks = {c["what"]: c for c in load(verdicts)["comparable"]["checks"]}
    assert not checks["oracle scoring of collaborative"]["same"]
    assert checks["hits scoring of semantic"]["same"]
    assert "hits scoring of" in result.output  # the comparability table
    assert _gate(runner, with_users, with_users).exit_code == 0


def test_ci_that_is_not_a_path_says_what_ci_takes(runner, tmp_path):
    rule = "[[rule]]\npath = 'overlap.k.10.overlap'\nmax_drop_abs = 0.1\n"
    line = _rules_refused(runner, tmp_path, rule + "ci = 'yes'\n")
    says = "rule 'overlap.k.10.overlap': ci = 'yes' is not a path in the baseline report"
    assert says in line
    assert 'ci must be "auto"' in line and "false" in line and "[lo, hi]" in line
    base = report(dataset("base"))
    rules = tmp_path / "gate.toml"
    rules.write_text(rule + "ci = 'overlap.k.10.ci95'\n")  # an interval path still works
    assert _gate(runner, base, base, "--rules", rules).exit_code == 0
