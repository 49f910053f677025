"""What ``--help`` shows: the command list, completion flags, -V, examples, allowed values."""

from __future__ import annotations

import inspect
import re

import pytest

from complement.cli.app import COMMANDS, app
from complement.config import COMMANDS as OPTIONS_OF
from complement.config import option

CHOICE_FLAGS = (
    "--capacity",
    "--shift",
    "--method",
    "--split",
    "--device",
    "--direction",
    "--metric",
    "--engine",
)


def help_of(runner, *args: str) -> str:
    result = runner.invoke(app, [*args, "--help"])
    assert result.exit_code == 0, result.output
    return " ".join(result.output.split())  # unwrapped: option help spans lines


def test_version_long_and_short(runner):
    from complement import __version__

    for flag in ("--version", "-V"):
        result = runner.invoke(app, [flag])
        assert result.exit_code == 0
        assert result.output.strip() == f"complement {__version__}"


def test_top_level_help_lists_every_command_and_the_shell_flags(runner):
    text = help_of(runner)
    for flag in ("-V, --version", "--install-completion", "--show-completion"):
        assert flag in text
    for name in COMMANDS:
        assert f" {name} " in text


def test_show_completion_prints_a_script(runner, monkeypatch):
    # the shell is found among the test's parent processes, which a detached run lacks
    monkeypatch.setattr("typer.completion._get_shell_name", lambda: "bash")
    result = runner.invoke(app, ["--show-completion"])
    assert result.exit_code == 0, result.output
    assert "complete" in result.output and "_COMPLEMENT_COMPLETE" in result.output.upper()


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_summary_table_matches_the_command_docstring(name):
    """app.py's one-line summaries are the first paragraph of each command's docstring."""
    import importlib

    fn = getattr(importlib.import_module(f"complement.cli.commands.{name}"), name)
    first = inspect.cleandoc(fn.__doc__).split("\n\n")[0]
    assert " ".join(first.split()) == COMMANDS[name]


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_command_help_shows_an_example(runner, name):
    assert re.search(rf"Example: complement {name}\b", help_of(runner, name))


@pytest.mark.parametrize("flag", CHOICE_FLAGS)
def test_choice_options_show_their_allowed_values(runner, flag):
    takers = [c for c, names in OPTIONS_OF.items() if flag[2:].replace("-", "_") in names]
    assert takers, f"no command takes {flag}"
    opt = option(flag[2:].replace("-", "_"))
    assert opt.choices
    wanted = "".join(f"one of {', '.join(opt.choices)}".split())
    for command in takers:
        if command not in COMMANDS:  # declared in config, its command not written yet
            continue
        text = "".join(help_of(runner, command).split())  # wrapped lines may split a value
        assert wanted in text, (command, flag)


def complete(runner, words: str) -> list[str]:
    """What bash completion offers for the last word of ``words``."""
    env = {
        "_COMPLEMENT_COMPLETE": "complete_bash",
        "COMP_WORDS": words,
        "COMP_CWORD": str(len(words.split()) - (0 if words.endswith(" ") else 1)),
    }
    result = runner.invoke(app, [], env=env, prog_name="complement")
    assert result.exit_code == 0, result.output
    return result.output.split()


def test_completion_of_commands_and_choice_values(runner):
    assert complete(runner, "complement st") == ["structure"]
    assert complete(runner, "complement ") == list(COMMANDS)
    assert complete(runner, "complement probe --capacity ml") == ["mlp1", "mlp2", "mlp3"]
    assert complete(runner, "complement overlap --device c") == ["cpu", "cuda"]


def test_every_command_module_is_in_the_table():
    """A new module under complement/cli/commands/ needs its line in app.COMMANDS."""
    from pathlib import Path

    import complement.cli.commands as commands

    modules = {p.stem for p in Path(commands.__file__).parent.glob("*.py") if p.stem != "__init__"}
    assert modules == set(COMMANDS)


@pytest.mark.parametrize(
    ("name", "usage"),
    [
        ("gate", "Usage: complement gate [OPTIONS] CURRENT"),
        ("explain", "Usage: complement explain [OPTIONS] ITEM [SEM] [CF]"),
        ("overlap", "Usage: complement overlap [OPTIONS] [SEM] [CF]"),
        ("compare", "Usage: complement compare [OPTIONS]"),
    ],
)
def test_usage_names_arguments_as_the_docs_do(runner, name, usage):
    """CURRENT, ITEM, [SEM] [CF], as README and docs write them (not {current} or [sem])."""
    result = runner.invoke(app, [name, "--help"])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0] == usage
    for metavar in usage.split("[OPTIONS]")[1].replace("[", "").replace("]", "").split():
        assert re.search(rf"^  {metavar}  ", result.output, flags=re.M), (metavar, result.output)


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_usage_has_no_braces_and_no_empty_default(runner, name):
    result = runner.invoke(app, [name, "--help"])
    assert "{" not in result.output.splitlines()[0]
    assert not re.search(r"default\s*\]", result.output), result.output


@pytest.mark.parametrize("name", sorted(c for c in COMMANDS if "quiet" in OPTIONS_OF[c]))
def test_quiet_help_names_only_the_commands_own_outputs(runner, name):
    text = help_of(runner, name)
    quiet = text[text.index("--quiet / --no-quiet") : text.index("[config: quiet]")]
    outputs = [f"--{o} -" for o in ("json", "markdown") if o in OPTIONS_OF[name]]
    assert quiet.rstrip().endswith(
        ", no tables with " + " or ".join(outputs) if outputs else "no progress"
    ), quiet
    for other in ("--json -", "--markdown -"):
        assert (other in quiet) == (other in outputs), (name, quiet)


def test_view_help_names_the_config_forms(runner):
    text = help_of(runner, "compare")
    assert 'in complement.toml a list view = ["NAME=PATH[:IDS]", ...] or a [views] table' in text
    assert "[config: view]" in text
