"""Probe and structure L2-normalise every row: an all-zero row, which the join lets through
under ``--metric ip``, is refused there (a report keeps its other sections) or, with
``--drop-invalid``, left out of those two sections only."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from complement.errors import InputError

N_ITEMS, N_USERS = 120, 30


pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture
def zero_row_config(tmp_path):
    """Views with an all-zero collaborative row (id 1007), a log, a config."""
    rng = np.random.default_rng(0)
    z = rng.standard_normal((N_ITEMS, 3))
    sem = np.c_[z, rng.standard_normal((N_ITEMS, 5))]
    cf = np.c_[z, rng.standard_normal((N_ITEMS, 3))]
    cf[7] = 0.0
    ids = np.arange(1000, 1000 + N_ITEMS)
    np.save(tmp_path / "sem.npy", sem.astype(np.float32))
    np.save(tmp_path / "cf.npy", cf.astype(np.float32))
    np.save(tmp_path / "ids.npy", ids)
    rows = [
        f"{u},{ids[i]},{u * 1000 + i}"
        for u in range(N_USERS)
        for i in rng.choice(N_ITEMS, 25, replace=False)
    ]
    (tmp_path / "log.csv").write_text("user_id,item_id,timestamp\n" + "\n".join(rows) + "\n")
    (tmp_path / "complement.toml").write_text(
        '[data]\nsemantic = "sem.npy"\nsem_ids = "ids.npy"\ncollaborative = "cf.npy"\n'
        'cf_ids = "ids.npy"\ninteractions = "log.csv"\n'
        '[options]\nsplit = "user-temporal"\nseed = 0\nk = [5]\nn_boot = 20\nmetric = "ip"\n'
        "permutations = 3\n"
    )
    return tmp_path / "complement.toml"


def _context(command: str, config, **flags):
    from complement.config import resolve
    from complement.pipeline import load_context
    from complement.retrieval import get_backend

    settings = resolve(command, {"device": "cpu", **flags}, config=config)
    return load_context(settings, get_backend("cpu"), need_split=command != "structure")


def test_a_report_under_ip_refuses_only_probe_and_structure(zero_row_config):
    from complement.pipeline.report import build_report

    ctx = _context("report", zero_row_config)
    assert ctx.views.n_items == N_ITEMS  # the ip join keeps the zero row
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        doc = build_report(ctx).doc
    assert doc["sections"]["overlap"] == "ok"
    for name in ("probe", "structure"):
        assert doc["sections"][name] == "not run"
        reason = doc[name]["reason"]
        assert "collaborative embeddings" in reason and "first ids: 1007" in reason
        assert f"{name} L2-normalises every row" in reason
        assert "pass --drop-invalid to leave such items out" in reason


def test_with_drop_invalid_they_run_on_the_other_items_as_under_cosine(zero_row_config):
    from complement.pipeline.probe import run_probe
    from complement.pipeline.structure import run_structure

    ip = _context("probe", zero_row_config, drop_invalid=True)
    cos = _context("probe", zero_row_config, drop_invalid=True, metric="cosine")
    assert ip.views.n_items == N_ITEMS and cos.views.n_items == N_ITEMS - 1
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        a, b = run_probe(ip, ["linear"]), run_probe(cos, ["linear"])
    assert a.doc == b.doc and a.doc["views"]["dropped"]["collaborative_zero"] == 1
    assert a.doc["interactions"] == b.doc["interactions"]
    # the per-item figures cover the run's items: the one left out has none
    cosine = a.result.capacities["linear"].item_cosine
    assert (
        cosine.shape == (N_ITEMS,)
        and np.isnan(cosine[7])
        and np.isfinite(np.delete(cosine, 7)).all()
    )
    assert 7 not in a.result.shift.train and 7 not in a.result.shift.test
    sip = _context("structure", zero_row_config, drop_invalid=True)
    scos = _context("structure", zero_row_config, drop_invalid=True, metric="cosine")
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        s_ip, s_cos = run_structure(sip), run_structure(scos)
    assert s_ip.doc == s_cos.doc
    assert s_ip.result.energy.shape == (N_ITEMS,) and np.isnan(s_ip.result.energy[7])


def test_structure_alone_refuses_the_zero_row_without_drop_invalid(zero_row_config):
    from complement.pipeline.structure import run_structure

    with pytest.raises(InputError, match="1 rows \\(first ids: 1007\\) are all zeros"):
        run_structure(_context("structure", zero_row_config))
