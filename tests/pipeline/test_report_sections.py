"""The report's section loop: reporting order, refusals kept, overlap, structure and probe on a
thread beside the oracle and hits."""

from __future__ import annotations

import threading
import time

import pytest

from complement.errors import UsageError
from complement.pipeline import report
from complement.pipeline.section import Section


def _section(name: str) -> Section:
    return Section(name=name, result=None, doc={"schema": f"complement.{name}/1", "v": name})


def test_the_side_sections_run_beside_the_others_and_refusals_are_kept():
    started = {name: threading.Event() for name in report.RUN_ORDER}
    threads: dict[str, str] = {}
    order: list[str] = []

    def runner(name: str):
        def run(ctx):
            threads[name] = threading.current_thread().name
            order.append(name)
            started[name].set()
            if name == "oracle":  # the side sections run while the oracle does
                assert all(started[n].wait(10) for n in report.SIDE)
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
    assert [n for n in order if n in report.SIDE] == list(report.SIDE)  # the side's own order
    assert "oracle" not in report.SIDE and "hits" not in report.SIDE  # hits reuses its rankings
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


def test_each_section_is_told_as_soon_as_it_and_those_before_it_are_done():
    """The oracle (this thread) is told before the hits start, with the overlap (side) before
    it; the side's probe, held until the hits end, is told after them."""
    release, structure_started = threading.Event(), threading.Event()
    lines: list[str] = []
    seen_at_hits: list[str] = []

    def structure(ctx):
        structure_started.set()  # so the overlap before it is done
        return _section("structure")

    def oracle(ctx):
        assert structure_started.wait(10)
        return _section("oracle")

    def hits(ctx):
        seen_at_hits.extend(line.split(" ")[1] for line in lines)
        release.set()
        return _section("hits")

    def probe(ctx):
        assert release.wait(10)
        return _section("probe")

    runners = {name: (lambda ctx, n=name: _section(n)) for name in report.RUN_ORDER}
    runners.update(structure=structure, oracle=oracle, hits=hits, probe=probe)
    report._run_sections(None, runners, {}, {}, {}, lines.append)
    assert seen_at_hits == ["overlap:", "oracle:"]
    assert [line.split(" ")[1] for line in lines] == [f"{n}:" for n in report.RUN_ORDER]


def test_an_error_in_the_first_side_section_is_raised():
    def boom(ctx):
        raise RuntimeError("overlap bug")

    runners = {name: (lambda ctx, n=name: _section(n)) for name in report.RUN_ORDER}
    runners["overlap"] = boom
    with pytest.raises(RuntimeError, match="overlap bug"):
        report._run_sections(None, runners, {}, {}, {}, None)


def test_an_engine_cluster_is_joined_on_the_main_thread_before_any_section(monkeypatch):
    """With --engine ray the cluster was joined by the first retrieval, which could be the
    side thread's (where a Ctrl-C during ray.init cannot be held); the report joins first."""
    from types import SimpleNamespace

    from complement.retrieval import Backend

    events: list[tuple[str, bool]] = []

    class Joining(Backend):
        def join(self) -> None:
            events.append(("join", threading.current_thread() is threading.main_thread()))

    class Plan:
        def close(self) -> None:
            pass

    def sections(ctx, runners, bodies, found, timings, notify):
        events.append(("sections", True))
        found.update(dict.fromkeys(report.RUN_ORDER))
        bodies.update({n: {"status": "not run", "reason": "test"} for n in report.RUN_ORDER})

    monkeypatch.setattr(report, "plan_probe", lambda *args: Plan())
    monkeypatch.setattr(report, "_run_sections", sections)
    ctx = SimpleNamespace(
        settings={"k": (5,)},
        views=SimpleNamespace(n_items=50),
        load_seconds=0.0,
        backend=Joining("cpu", "cpu-blas"),
    )
    with pytest.raises(UsageError, match="no section of the report could run"):
        report.build_report(ctx)
    assert events == [("join", True), ("sections", True)]
