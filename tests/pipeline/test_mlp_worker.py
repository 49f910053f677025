"""The probe's MLP fits in a worker process: the same bits as in this process, and a fall-back."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from complement.core.probe_fit import fit_inputs, predict_items, probe_rows
from complement.core.shifts import make_item_shift
from complement.pipeline import mlp_worker
from complement.pipeline.mlp_worker import MlpFits, Worker, start_worker, worker_wanted

OPTS = {"alpha": None, "rank": 16, "max_epochs": 6, "seed": 3, "device": "cpu", "epochs": None}


def _jobs() -> dict[tuple[str, str], object]:
    rng = np.random.default_rng(0)
    z = rng.standard_normal((120, 3))
    source = (z @ rng.standard_normal((3, 10)) + 0.1 * rng.standard_normal((120, 10))).astype(
        np.float32
    )
    target = (z @ rng.standard_normal((3, 4))).astype(np.float32)
    xs, yt = probe_rows(source, target, raw=False)
    return {
        ("mlp1", "shift"): fit_inputs(xs, yt, make_item_shift("random", 120, seed=1)),
        ("mlp1", "reference"): fit_inputs(xs, yt, make_item_shift("random", 120, seed=2)),
    }


def _here(jobs, key):
    predicted, info = predict_items(key[0], jobs[key], OPTS)
    return predicted + jobs[key].y_mean, info


def test_worker_fits_give_the_same_bits_as_fits_here():
    jobs = _jobs()
    with MlpFits(jobs, OPTS) as fits:
        for key in jobs:
            assert fits.from_worker(key) is not None  # the worker did fit it
            mapped, info = fits.fits()[key]()
            want, want_info = _here(jobs, key)
            assert mapped.dtype == np.float64
            np.testing.assert_array_equal(mapped.view(np.int64), want.view(np.int64))
            assert info == want_info
        folder = fits.folder
        names = sorted(p.name for p in folder.iterdir())  # no pickle: arrays and JSON only
        assert all(n.endswith((".npy", ".json", "stderr.txt")) for n in names), names
        assert json.loads((folder / "jobs.json").read_text())["opts"] == OPTS
    assert not folder.exists()  # the private folder is removed


def test_a_failed_worker_falls_back_to_fitting_here(monkeypatch):
    jobs = _jobs()
    monkeypatch.setattr(mlp_worker, "_command", lambda folder: [sys.executable, "-c", "exit(3)"])
    with MlpFits(jobs, OPTS) as fits:
        key = ("mlp1", "reference")
        assert fits.from_worker(key) is None
        mapped, info = fits.result(key)
    want, want_info = _here(jobs, key)
    np.testing.assert_array_equal(mapped, want)
    assert info == want_info


def test_no_worker_at_all_falls_back_too(monkeypatch):
    def refuse(*args, **kwargs):
        raise OSError("no processes here")

    monkeypatch.setattr(mlp_worker.subprocess, "Popen", refuse)
    jobs = _jobs()
    with MlpFits(jobs, OPTS) as fits:
        mapped, _ = fits.result(("mlp1", "shift"))
    np.testing.assert_array_equal(mapped, _here(jobs, ("mlp1", "shift"))[0])


def test_closing_stops_a_running_worker(monkeypatch):
    sleeper = [sys.executable, "-c", "import time; time.sleep(600)"]  # never answers
    monkeypatch.setattr(mlp_worker, "_command", lambda folder: sleeper)
    fits = MlpFits(_jobs(), OPTS)
    proc = fits.worker.proc
    assert proc is not None and proc.poll() is None
    fits.close()
    assert proc.poll() is not None and not fits.folder.exists()


def test_a_result_waited_for_when_closed_refuses_instead_of_fitting_here(monkeypatch):
    """An abandoned report closes the fits while the probe (on the side thread) waits for
    them: the wait ends with a refusal, not with the fits run in this process."""
    import threading

    from complement.errors import ComplementError

    sleeper = [sys.executable, "-c", "import time; time.sleep(600)"]  # never answers
    monkeypatch.setattr(mlp_worker, "_command", lambda folder: sleeper)
    monkeypatch.setattr(mlp_worker, "predict_items", lambda *a: pytest.fail("fitted here"))
    fits = MlpFits(_jobs(), OPTS)
    got: list[BaseException] = []

    def wait() -> None:
        try:
            fits.result(("mlp1", "shift"))
        except BaseException as exc:
            got.append(exc)

    thread = threading.Thread(target=wait)
    thread.start()
    time.sleep(0.3)  # the thread waits for the worker's answer
    closing = threading.Thread(target=fits.close)  # stops the worker, not waiting for it
    closing.start()
    closing.join(30)
    thread.join(10)
    try:
        assert not closing.is_alive(), "close() waited for the worker to end on its own"
        assert not thread.is_alive()
    finally:
        fits.worker.proc.kill()
    assert len(got) == 1 and isinstance(got[0], ComplementError)
    assert "stopped" in str(got[0])


def test_worker_wanted_only_for_mlps_on_the_cpu_before_torch_loads(monkeypatch):
    monkeypatch.delitem(sys.modules, "torch", raising=False)
    assert worker_wanted(("linear", "mlp1"), "cpu")
    assert not worker_wanted(("linear", "lowrank"), "cpu")
    assert not worker_wanted(("mlp1",), "cuda")
    assert worker_wanted(("mlp1",), "cpu", mlp_worker.MAX_WORKER_BYTES)
    assert not worker_wanted(("mlp1",), "cpu", mlp_worker.MAX_WORKER_BYTES + 1)  # fit here
    monkeypatch.setitem(sys.modules, "torch", object())
    assert not worker_wanted(("mlp1",), "cpu")  # torch loaded here: fitting here is free


def test_probe_command_same_json_with_and_without_the_worker(monkeypatch, tmp_path):
    from typer.testing import CliRunner

    from complement.cli.app import app
    from complement.fixture import fixture_dir

    started: list[list[tuple[str, str]]] = []
    real = mlp_worker.MlpFits.__init__

    def spy(self, jobs, opts, worker=None):
        started.append(sorted(jobs))
        real(self, jobs, opts, worker)

    monkeypatch.setattr(mlp_worker.MlpFits, "__init__", spy)
    monkeypatch.chdir(fixture_dir())
    docs = []
    for use_worker in (True, False):
        monkeypatch.setattr(
            "complement.pipeline.probe.worker_wanted", lambda c, d, size, u=use_worker: u
        )
        out = tmp_path / f"probe-{use_worker}.json"
        args = [
            "probe",
            "--config",
            "complement.toml",
            "--capacity",
            "mlp1",
            "--shift",
            "popularity",
        ]
        args += ["--max-epochs", "4", "--quiet"]
        result = CliRunner().invoke(app, [*args, "--json", str(out)])
        assert result.exit_code == 0, result.output
        doc = json.loads(out.read_text())
        doc.pop("timings", None)
        docs.append(doc)
    assert started == [[("mlp1", "reference"), ("mlp1", "shift")]]  # the first run only
    assert docs[0] == docs[1]


def _orphaned_folder(*lines: str) -> Path:
    """Run ``lines`` in a process that starts a worker, prints its folder and dies without
    closing it; the folder, once the worker had time to remove it (at most 60 s)."""
    script = "\n".join(
        [
            "import os, sys",
            "sys.path.insert(0, sys.argv[1])",
            "from test_mlp_worker import OPTS, _jobs",
            "from complement.pipeline.mlp_worker import MlpFits, Worker",
            *lines,
            "os._exit(0)",  # dies without closing: the worker is orphaned
        ]
    )
    here = str(Path(__file__).parent)
    out = subprocess.run(
        [sys.executable, "-c", script, here], capture_output=True, text=True, check=True
    )
    folder = Path(out.stdout.split()[0])
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and folder.exists():
        time.sleep(0.2)
    return folder


def test_a_worker_whose_parent_died_during_the_fits_exits_and_cleans_up():
    folder = _orphaned_folder("fits = MlpFits(_jobs(), OPTS)", "print(fits.folder, flush=True)")
    assert not folder.exists()


def test_a_worker_never_given_jobs_whose_parent_died_exits_and_cleans_up():
    folder = _orphaned_folder("worker = Worker()", "print(worker.folder, flush=True)")
    assert not folder.exists()


def test_a_finished_worker_whose_parent_died_before_closing_removes_the_folder():
    folder = _orphaned_folder(
        "fits = MlpFits(_jobs(), OPTS)",
        "assert fits.from_worker(('mlp1', 'shift')) is not None",  # the worker said ok
        "print(fits.folder, flush=True)",
    )
    assert not folder.exists()


def test_a_worker_started_before_its_jobs_gives_the_same_bits():
    jobs = _jobs()
    worker = Worker()  # imports torch while the jobs are being made
    time.sleep(0.5)
    assert worker.proc is not None and worker.proc.poll() is None  # waiting for "go"
    assert not (worker.folder / "jobs.json").exists()
    with MlpFits(jobs, OPTS, worker) as fits:
        assert fits.worker is worker and fits.folder == worker.folder
        for key in jobs:
            assert fits.from_worker(key) is not None
            mapped, info = fits.result(key)
            want, want_info = _here(jobs, key)
            np.testing.assert_array_equal(mapped.view(np.int64), want.view(np.int64))
            assert info == want_info
    assert not worker.folder.exists()


def test_a_worker_never_given_jobs_is_stopped_by_close():
    worker = Worker()
    proc, folder = worker.proc, worker.folder
    assert proc is not None and proc.poll() is None
    worker.close()
    assert proc.poll() is not None and not folder.exists()
    worker.close()  # twice is harmless


def test_start_worker_only_where_a_worker_pays(monkeypatch):
    monkeypatch.delitem(sys.modules, "torch", raising=False)
    assert start_worker(("linear",), "cpu") is None
    assert start_worker(("mlp1",), "cuda") is None
    worker = start_worker(("linear", "mlp1"), "cpu")
    assert isinstance(worker, Worker)
    worker.close()


def test_plan_probe_closes_a_worker_it_cannot_use(monkeypatch):
    from complement.config import resolve
    from complement.fixture import fixture_config
    from complement.pipeline.context import load_context
    from complement.pipeline.probe import plan_probe
    from complement.retrieval import get_backend

    config = fixture_config()
    ctx = load_context(resolve("report", {}, config=config), get_backend("cpu"), need_split=True)
    # a refusal (--epochs without --no-early-stop) closes the worker at once
    bad = load_context(
        resolve("probe", {"epochs": 3}, config=config), get_backend("cpu"), need_split=True
    )
    worker = Worker()
    plan = plan_probe(bad, ("linear", "mlp1"), worker)
    assert plan.error is not None and plan.fits is None
    assert worker.proc is not None and worker.proc.poll() is not None
    assert not worker.folder.exists()
    # inputs too large for a worker: it is closed and the fits run here
    monkeypatch.delitem(sys.modules, "torch", raising=False)  # as in a fresh process
    monkeypatch.setattr(mlp_worker, "MAX_WORKER_BYTES", 0)
    worker = Worker()
    plan = plan_probe(ctx, ("linear", "mlp1"), worker)
    assert plan.error is None and plan.fits is None
    assert worker.proc is not None and worker.proc.poll() is not None
    plan.close()
