"""The report's section loop: reporting order, refusals kept, structure and probe on a thread
beside the other sections."""

from __future__ import annotations

import threading
import time

import pytest

from complement.errors import UsageError
from complement.pipeline import report
from complement.pipeline.section import Section


def _section(name: str) -> Section:
    return Section(name=name, result=None, doc={"schema": f"complement.{name}/1", "v": name})


def test_structure_and_probe_run_beside_the_others_and_refusals_are_kept():
    started = {name: threading.Event() for name in report.RUN_ORDER}
    threads: dict[str, str] = {}
    order: list[str] = []

    def runner(name: str):
        def run(ctx):
            threads[name] = threading.current_thread().name
            order.append(name)
            started[name].set()
            if name == "oracle":  # the side sections run while the oracle does
                assert started["structure"].wait(10) and started["probe"].wait(10)
            if name == "probe":
                raise UsageError("no probe today")
            return _section(name)

        return run

    runners = {name: runner(name) for name in report.RUN_ORDER}
    bodies, sections, timings, lines = {}, {}, {}, []
    report._run_sections(None, runners, bodies, sections, timings, lines.append)
    # reported in RUN_ORDER whatever the order they finished in
    assert [line.split(" ")[1] for line in lines] == [f"{n}:" for n in report.RUN_ORDER]
    assert bodies["probe"] == {"status": "not run", "reason": "no probe today"}
    assert sections["probe"] is None and bodies["structure"]["v"] == "structure"
    main = {threads[n] for n in report.RUN_ORDER if n not in report.SIDE}
    side = {threads[n] for n in report.SIDE}
    assert len(main) == 1 and len(side) == 1 and main != side
    assert order.index("structure") < order.index("probe")  # the side's own order
    assert set(timings) == set(report.RUN_ORDER)


def test_an_error_in_the_structure_thread_is_raised():
    def boom(ctx):
        raise RuntimeError("bug")

    runners = {name: (lambda ctx, n=name: _section(n)) for name in report.RUN_ORDER}
    runners["structure"] = boom
    with pytest.raises(RuntimeError, match="bug"):
        report._run_sections(None, runners, {}, {}, {}, None)


def test_an_interruption_does_not_wait_for_the_side_sections():
    """Ctrl-C (or an error) in a main-thread section returns at once: the side section under
    way finishes on its daemon thread, the one not yet started never runs."""
    release, started = threading.Event(), threading.Event()
    ran: list[str] = []

    def slow_structure(ctx):
        ran.append("structure")
        started.set()
        release.wait(30)
        return _section("structure")

    def probe(ctx):
        ran.append("probe")
        return _section("probe")

    def interrupted(ctx):
        assert started.wait(10)  # while the structure runs
        raise KeyboardInterrupt

    runners = {name: (lambda ctx, n=name: _section(n)) for name in report.RUN_ORDER}
    runners.update(structure=slow_structure, probe=probe, oracle=interrupted)
    t0 = time.perf_counter()
    with pytest.raises(KeyboardInterrupt):
        report._run_sections(None, runners, {}, {}, {}, None)
    assert time.perf_counter() - t0 < 10  # not the 30 s the structure would hold it
    release.set()
    side = [t for t in threading.enumerate() if t.name == "complement-side"]
    for thread in side:
        thread.join(10)
        assert thread.daemon
    assert ran == ["structure"]
