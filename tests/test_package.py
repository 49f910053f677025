"""The package as a library: what ``import complement`` loads and exports."""

from __future__ import annotations

import subprocess
import sys

import complement


def test_import_does_not_load_torch():
    """Neither the library nor the command-line tool loads torch until align needs it."""
    for module in ("complement", "complement.cli.app"):
        code = f"import sys, {module}; print('torch' in sys.modules)"
        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        )
        assert out.stdout.strip() == "False", module


def test_every_export_resolves():
    for name in complement.__all__:
        assert getattr(complement, name) is not None
    from complement.core.align import align

    assert complement.align is align


def test_unknown_attribute_is_an_attribute_error():
    try:
        complement.no_such_thing  # noqa: B018
    except AttributeError as exc:
        assert "no_such_thing" in str(exc)
    else:
        raise AssertionError("expected AttributeError")
