"""The probe's MLP fits in a worker process, so that importing torch overlaps the other work.

``import torch`` costs 2-3 s of one core, nearly all of it holding the interpreter lock: in the
process that runs the other diagnostics (``complement report``: overlap, oracle, hits before
the probe) it delays them as much as it takes. A worker process (``python -m
complement.pipeline.mlp_worker FOLDER PARENT_PID``) instead imports torch and fits the MLPs on
another core while this process goes on; the probe collects the mapped vectors when it
reaches them. The worker exits, removing the folder, if this process dies.

- Inputs and outputs are ``.npy`` files and one JSON file in a private temporary folder
  (never pickle): per fit, the centred training sources and targets and every item's centred
  source (:class:`complement.core.probe_fit.FitInputs`); back, the predictions (float64) and
  the fit's information.
- The worker runs the same code as a fit in this process
  (:func:`complement.core.probe_fit.predict_items`: one torch thread, deterministic
  algorithms, seeded), so the mapped vectors are the same bits.
- It is used on the CPU only, when torch is installed but not yet imported here (once torch is
  loaded, a fit here costs no import). If the worker fails in any way, the fit runs here,
  which also reports any error the usual way.
- A :class:`Worker` can start before its jobs are known (``complement report`` starts it before
  loading the inputs). The protocol: the worker imports torch and waits on its standard input
  for ``go`` (its jobs are in the folder); when every result is written it prints ``ok`` on its
  standard output (anything else it prints goes to its standard error) and waits for the end
  of its input. The end of the input (this process closing it, or dying) before ``go`` or
  after ``ok`` leaves the worker waiting for this process's ``close`` (which stops it) or
  death (then it removes the folder itself): a folder is never left behind, whenever this
  process is killed.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt

from complement.core import probe_models
from complement.core.probe_fit import FitInputs, predict_items
from complement.errors import UsageError

__all__ = [
    "MAX_WORKER_BYTES",
    "MlpFits",
    "Worker",
    "load_beside",
    "main",
    "start_worker",
    "worker_wanted",
]

F64 = npt.NDArray[np.float64]
Mapped = tuple[F64, dict[str, Any]]
Key = tuple[str, str]
T = TypeVar("T")
_ARRAYS = ("x_fit", "y_fit", "x_all")


#: Largest inputs (bytes of float64 arrays written for the worker) sent to a worker: past that,
#: copying them to disk costs more than the import saves, so the fits run in this process.
MAX_WORKER_BYTES = 256 << 20


def worker_wanted(capacities: tuple[str, ...], device: str, input_bytes: int = 0) -> bool:
    """A worker pays off: an MLP to fit on the CPU, torch installed and not yet imported here,
    inputs of at most ``MAX_WORKER_BYTES``."""
    return (
        device == "cpu"
        and input_bytes <= MAX_WORKER_BYTES
        and any(c in probe_models.MLP_LAYERS for c in capacities)
        and "torch" not in sys.modules
        and importlib.util.find_spec("torch") is not None
    )


def _command(folder: Path) -> list[str]:
    """The worker's command line."""
    return [sys.executable, "-m", "complement.pipeline.mlp_worker", str(folder), str(os.getpid())]


def _name(key: Key) -> str:
    return f"{key[0]}-{key[1]}"


class Worker:
    """A worker process, started now (it imports torch), given its jobs later (:meth:`go`).

    Owns the private folder the jobs and results go through; :meth:`close` stops the process
    (if it still runs) and removes the folder.
    """

    def __init__(self) -> None:
        self._dir = tempfile.TemporaryDirectory(prefix="complement-mlp-")
        self.folder = Path(self._dir.name)
        self.proc: subprocess.Popen[bytes] | None = None
        self._ok: bool | None = None
        package_root = str(Path(__file__).resolve().parents[2])
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (package_root, env.get("PYTHONPATH", "")) if p
        )
        with (self.folder / "stderr.txt").open("wb") as stderr:
            try:
                self.proc = subprocess.Popen(
                    _command(self.folder),
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    stderr=stderr,
                    env=env,
                )
            except OSError:  # no worker: every fit runs here
                self.proc = None

    def go(self) -> None:
        """Tell the worker that its jobs are in the folder (its input stays open: its end
        tells the worker to stop)."""
        if self.proc is None or self.proc.stdin is None:
            return
        try:
            self.proc.stdin.write(b"go\n")
            self.proc.stdin.flush()
        except OSError:  # the worker is gone: its fits run here
            pass

    def succeeded(self) -> bool:
        """Wait for the worker's ``ok`` (True) or its end without one (False)."""
        if self._ok is None:
            self._ok = False
            if self.proc is not None and self.proc.stdout is not None:
                try:
                    self._ok = any(line.strip() == b"ok" for line in self.proc.stdout)
                except (OSError, ValueError):  # its output closed by close() meanwhile
                    self._ok = False
        return self._ok

    def close(self) -> None:
        """Stop the process, then close its pipes and remove the folder.

        The process is killed first: a thread waiting in :meth:`succeeded` holds the lock of
        the worker's output while it reads, so closing that output first waited for the
        worker to end on its own (every fit done) before an abandoned report could stop."""
        if self.proc is not None:
            if self.proc.poll() is None:
                self.proc.kill()
            for pipe in (self.proc.stdin, self.proc.stdout):
                if pipe is not None and not pipe.closed:
                    try:
                        pipe.close()
                    except OSError:
                        pass
            self.proc.wait()
        self._dir.cleanup()


def start_worker(capacities: tuple[str, ...], device: str) -> Worker | None:
    """A :class:`Worker` started now, when one would pay off for these capacities (None: not).

    The size of the inputs is not known yet: :class:`MlpFits` checks it, and a worker not used
    is closed.
    """
    return Worker() if worker_wanted(capacities, device) else None


def load_beside(
    load: Callable[[], T], capacities: tuple[str, ...], device: str
) -> tuple[T, Worker | None]:
    """``load()``, with a worker for these capacities started first where one pays (so that
    torch imports while the inputs load); the worker is closed if loading fails."""
    worker = start_worker(capacities, device)
    try:
        return load(), worker
    except BaseException:
        if worker is not None:
            worker.close()
        raise


class MlpFits:
    """MLP fits under way in a worker process; :meth:`result` waits for them.

    ``jobs``: (capacity, role) -> the fit's inputs; ``opts``: the keywords of
    :func:`complement.core.probe_fit.fit_capacity`; ``worker``: one already started (by
    :func:`start_worker`), else one is started here. Use as a context manager (or call
    :meth:`close`): it stops the worker and removes its folder.
    """

    def __init__(
        self, jobs: Mapping[Key, FitInputs], opts: dict[str, Any], worker: Worker | None = None
    ) -> None:
        self.jobs, self.opts = dict(jobs), dict(opts)
        self.worker = worker if worker is not None else Worker()
        self._done: dict[Key, Mapped] = {}
        self._closed = False
        spec = {"opts": self.opts, "jobs": [[k[0], _name(k)] for k in self.jobs]}
        for key, inputs in self.jobs.items():
            for field in _ARRAYS:
                np.save(self.folder / f"{_name(key)}.{field}.npy", getattr(inputs, field))
        (self.folder / "jobs.json").write_text(json.dumps(spec))
        self.worker.go()

    @property
    def folder(self) -> Path:
        """The worker's private folder."""
        return self.worker.folder

    def __enter__(self) -> MlpFits:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def fits(self) -> dict[Key, Callable[[], Mapped]]:
        """One callable per job, returning its mapped vectors and info (for the probe)."""
        return {key: partial(self.result, key) for key in self.jobs}

    def from_worker(self, key: Key) -> Mapped | None:
        """The worker's prediction and info for ``key`` (None: the worker failed)."""
        if not self.worker.succeeded():
            return None
        try:
            pred = np.load(self.folder / f"{_name(key)}.pred.npy", allow_pickle=False)
            info = json.loads((self.folder / f"{_name(key)}.info.json").read_text())
        except (OSError, ValueError):
            return None
        return np.asarray(pred, dtype=np.float64), info

    def result(self, key: Key) -> Mapped:
        """The mapped vectors (prediction + the target's training mean) and the fit's info."""
        if key not in self._done:
            inputs = self.jobs[key]
            got = self.from_worker(key)
            if got is None and self._closed:  # stopped (the report was abandoned): no fit here
                raise UsageError("the probe's MLP fits were stopped before they finished")
            predicted, info = got if got is not None else predict_items(key[0], inputs, self.opts)
            self._done[key] = (predicted + inputs.y_mean, info)
        return self._done[key]

    def close(self) -> None:
        """Stop the worker (and remove its folder); a :meth:`result` not yet collected then
        refuses instead of fitting in this process."""
        self._closed = True
        self.worker.close()


def _run(folder: Path) -> None:
    """The worker: every job of ``folder`` fitted (two at a time, one torch thread each)."""
    spec = json.loads((folder / "jobs.json").read_text())
    opts = spec["opts"]

    def job(capacity: str, name: str) -> None:
        arrays = {f: np.load(folder / f"{name}.{f}.npy", allow_pickle=False) for f in _ARRAYS}
        inputs = FitInputs(**arrays, y_mean=np.zeros(0))
        predicted, info = predict_items(capacity, inputs, opts)
        np.save(folder / f"{name}.pred.npy", predicted)  # read after "ok" only
        (folder / f"{name}.info.json").write_text(json.dumps(info))

    with probe_models.torch_session(), ThreadPoolExecutor(max_workers=2) as threads:
        for fut in [threads.submit(job, capacity, name) for capacity, name in spec["jobs"]]:
            fut.result()


def _orphan_watch(folder: Path, parent: int) -> None:
    """Exit (removing the folder) as soon as the process that started this one is gone."""
    import shutil
    import time

    while os.getppid() == parent:
        time.sleep(0.5)
    shutil.rmtree(folder, ignore_errors=True)
    os._exit(1)


def main(argv: list[str] | None = None) -> int:
    """The worker's entry point: ``python -m complement.pipeline.mlp_worker FOLDER PARENT_PID``.

    Imports torch first (the slow part, while the parent loads its inputs), fits the folder's
    jobs once the parent writes ``go``, prints ``ok``, then waits for the end of its input; from
    there the watch ends it (the parent's ``close`` stops it first). See the module doc.
    """
    import threading

    args = sys.argv[1:] if argv is None else argv
    folder, parent = Path(args[0]), int(args[1])
    # the protocol's own channel; anything else written to standard output goes to stderr
    protocol = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)
    watch = threading.Thread(target=_orphan_watch, args=(folder, parent), daemon=True)
    watch.start()
    importlib.import_module("torch")
    if sys.stdin.readline().strip() == "go":
        _run(folder)
        protocol.write("ok\n")
        protocol.flush()
        sys.stdin.read()  # until this process's parent closes the input or dies
    watch.join()
    return 0


if __name__ == "__main__":
    sys.exit(main())
