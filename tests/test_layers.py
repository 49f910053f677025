"""The layers import one way: io → core → pipeline → report → cli (and the API on top)."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "complement"

#: what each layer must never import (a module path prefix)
FORBIDDEN = {
    "io": ("complement.core", "complement.pipeline", "complement.report", "complement.cli",
           "complement.gate", "complement.study"),
    "core": ("complement.pipeline", "complement.report", "complement.cli", "complement.gate",
             "complement.study"),
    "retrieval": ("complement.core", "complement.pipeline", "complement.report", "complement.cli",
                  "complement.study"),
    "gate": ("complement.pipeline", "complement.report", "complement.cli", "complement.study"),
    "pipeline": ("complement.report", "complement.cli", "complement.study"),
    "report": ("complement.cli", "complement.study"),
}  # fmt: skip


def _imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.append(node.module)
        elif isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
    return names


def test_no_arrow_runs_back_up_a_layer():
    bad = []
    for layer, forbidden in FORBIDDEN.items():
        for path in (PACKAGE / layer).rglob("*.py"):
            for name in _imports(path):
                if name.startswith(forbidden):
                    bad.append(f"{path.relative_to(PACKAGE)} imports {name}")
    assert not bad, bad


def test_no_command_module_imports_another():
    commands = PACKAGE / "cli" / "commands"
    names = {p.stem for p in commands.glob("*.py")} - {"__init__"}
    bad = [
        f"{path.name} imports {name}"
        for path in commands.glob("*.py")
        for name in _imports(path)
        if name.startswith("complement.cli.commands") and name.rsplit(".", 1)[-1] in names
    ]
    assert not bad, bad


def test_no_module_over_400_lines():
    long = {
        str(p.relative_to(PACKAGE)): n
        for p in PACKAGE.rglob("*.py")
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > 400
    }
    assert not long, long


def test_every_module_says_what_it_is_for():
    missing = [
        str(p.relative_to(PACKAGE))
        for p in PACKAGE.rglob("*.py")
        if p.stat().st_size and ast.get_docstring(ast.parse(p.read_text(encoding="utf-8"))) is None
    ]
    assert not missing, missing
