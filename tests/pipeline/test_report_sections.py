"""The report's section loop: run order, refusals kept, structure on a thread beside probe."""

from __future__ import annotations

import threading

import pytest

from complement.errors import UsageError
from complement.pipeline import report
from complement.pipeline.section import Section


def _section(name: str) -> Section:
    return Section(name=name, result=None, doc={"schema": f"complement.{name}/1", "v": name})


def test_structure_runs_beside_the_probe_and_refusals_are_kept():
    started = {name: threading.Event() for name in report.RUN_ORDER}
    threads: dict[str, str] = {}

    def runner(name: str):
        def run(ctx):
            threads[name] = threading.current_thread().name
            started[name].set()
            if name == "probe":  # the structure starts before the probe ends
                assert started["structure"].wait(10)
                raise UsageError("no probe today")
            if name == "structure":
                assert started["probe"].wait(10)
            return _section(name)

        return run

    runners = {name: runner(name) for name in report.RUN_ORDER}
    bodies, sections, timings, lines = {}, {}, {}, []
    report._run_sections(None, runners, bodies, sections, timings, lines.append)
    assert [line.split(" ")[1] for line in lines] == [f"{n}:" for n in report.RUN_ORDER]
    assert bodies["probe"] == {"status": "not run", "reason": "no probe today"}
    assert sections["probe"] is None and bodies["structure"]["v"] == "structure"
    assert threads["structure"] != threads["probe"] == threads["overlap"]
    assert set(timings) == set(report.RUN_ORDER)


def test_an_error_in_the_structure_thread_is_raised():
    def boom(ctx):
        raise RuntimeError("bug")

    runners = {name: (lambda ctx, n=name: _section(n)) for name in report.RUN_ORDER}
    runners["structure"] = boom
    with pytest.raises(RuntimeError, match="bug"):
        report._run_sections(None, runners, {}, {}, {}, None)
