"""The Ray engine's errors and its joins: one clear line, at once, and only Ray's own cluster.

Most checks need no cluster (Ray's calls are replaced); the one that runs tasks starts a small
local instance (2 CPUs) for itself. Skipped where Ray is not installed, except the checks that
do not import it.
"""

from __future__ import annotations

import importlib.util
import os
import signal
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from complement.errors import DeviceError, UsageError
from tests.conftest import run_python

ROOT = Path(__file__).resolve().parents[2]
FIXTURE_CONFIG = ROOT / "fixtures/movielens-100k/complement.toml"
HAVE_RAY = importlib.util.find_spec("ray") is not None
needs_ray = pytest.mark.skipif(not HAVE_RAY, reason="Ray is not installed (complement[ray])")


class _TaskError(Exception):
    """What Ray raises for a failed task: a coloured header, and the task's exception."""

    def __init__(self, cause: BaseException) -> None:
        super().__init__(
            f"\x1b[36mray::run_shard()\x1b[39m (pid=1, ip=10.0.0.1)\n  File ...\n{cause}"
        )
        self.cause = cause


def test_a_failed_task_is_reported_by_its_cause_without_colour_codes(tmp_path):
    from complement.retrieval.ray_tasks import MAX_RETRIES, shard_error

    path = str(tmp_path / "sem.npy")
    gone = FileNotFoundError(2, "No such file or directory", path)
    err = shard_error(_TaskError(gone), "shard 2/2 (query rows 100-200)", {path})
    message = str(err)
    assert "\x1b" not in message and "ray::" not in message
    assert message.startswith("--engine ray: shard 2/2 (query rows 100-200) could not open the ")
    tried = f"catalogue {path} (No such file or directory; tried {MAX_RETRIES + 1} times)"
    assert tried in message
    assert "readable on every Ray node" in message and "docs/scaling.md" in message
    other = shard_error(_TaskError(ValueError("bad\nmore")), "shard 1/2 (tiles 0-3)", {path})
    assert str(other).endswith(
        "failed (lost workers and I/O errors are retried 3 times): ValueError: bad"
    )
    lost = shard_error(RuntimeError("\x1b[31mworker died\x1b[0m"), "shard 1/1 (tiles 0-1)", ())
    assert str(lost).endswith(": RuntimeError: worker died")
    own = UsageError("k too large")
    assert shard_error(_TaskError(own), "shard 1/1 (tiles 0-1)", ()) is own


@pytest.mark.parametrize(
    "address",
    [
        "localhost:-1",
        ":6379",
        "foo",
        "localhost:abc",
        "localhost:99999",
        "host:0",
        "ray://:10001",
        "[::1:6379",
        "a b:6379",
    ],
)
def test_a_malformed_address_is_refused_at_once_without_the_token_hint(address):
    from complement.retrieval.ray_cluster import check_address

    started = time.monotonic()
    with pytest.raises(DeviceError) as err:
        check_address(address)
    message = str(err.value)
    assert f"--ray-address {address!r} is not HOST:PORT with a port in 1..65535" in message
    assert "RAY_AUTH_MODE" not in message and time.monotonic() - started < 1


def test_an_empty_address_is_refused_and_a_config_file_is_named():
    from complement.retrieval.ray_cluster import check_address

    with pytest.raises(DeviceError, match=r"--ray-address '' is empty; .* leave it out"):
        check_address("")
    with pytest.raises(DeviceError) as err:
        check_address("127.0.0.1:1", timeout=2, source="c.toml[options]")
    assert "no Ray cluster answers at ray_address 127.0.0.1:1 in c.toml[options]" in str(err.value)
    assert str(err.value).endswith("fix ray_address in c.toml[options]")
    assert "--ray-address" not in str(err.value) and "RAY_ADDRESS" not in str(err.value)


def test_the_token_hint_only_when_rays_error_is_about_authentication(monkeypatch):
    from complement.retrieval.ray_cluster import _not_joined

    monkeypatch.delenv("RAY_AUTH_MODE", raising=False)
    for exc in (
        ValueError("Invalid address format: foo"),
        ConnectionError("Could not find any running Ray instance"),
    ):
        assert "RAY_AUTH_MODE" not in str(_not_joined("explicit", "foo", exc))
    for exc in (
        ConnectionError("Failed to connect to Ray cluster at h:6379"),
        RuntimeError("Invalid or missing authentication token"),
    ):
        assert "set RAY_AUTH_MODE=token" in str(_not_joined("explicit", "h:6379", exc))


@pytest.fixture
def broken_ray(monkeypatch, tmp_path):
    """A Ray install whose ``import ray`` fails, as a wheel for another Python does."""
    package = tmp_path / "site" / "ray"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text('raise ImportError("libfoo.so: cannot open it")\n')
    monkeypatch.delitem(sys.modules, "ray", raising=False)
    monkeypatch.syspath_prepend(str(tmp_path / "site"))


def test_a_ray_that_cannot_be_imported_is_one_usage_line(broken_ray):
    from complement.retrieval import ray_cluster

    with pytest.raises(UsageError) as err:
        ray_cluster.require_ray()
    message = str(err.value)
    assert message.startswith(
        "--engine ray: Ray is installed but cannot be imported (ImportError: libfoo.so: cannot"
    )
    assert message.endswith("reinstall it: pip install 'complement[ray]'")


def test_a_broken_ray_on_the_command_line_exits_2_with_one_line(invoke, broken_ray):
    result, _ = invoke("overlap", "--config", FIXTURE_CONFIG, "--engine", "ray", json_out=False)
    assert result.exit_code == 2
    assert "Ray is installed but cannot be imported" in result.output
    assert "Traceback" not in result.output


def test_a_sigint_during_ray_init_is_raised_after_it():
    """Ray's core worker half-started when a KeyboardInterrupt unwinds ray.init crashed the
    process (SIGSEGV): the first Ctrl-C waits for the end of ray.init; a second one leaves."""
    from complement.retrieval.ray_cluster import _signals_held

    # Python's own Ctrl-C handler, whatever an earlier test (or Ray) left installed
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        before = signal.getsignal(signal.SIGINT)
        done = []
        with pytest.raises(KeyboardInterrupt):
            with _signals_held():
                os.kill(os.getpid(), signal.SIGINT)
                time.sleep(0.05)
                done.append("ray.init returned")
        assert done and signal.getsignal(signal.SIGINT) is before
        with pytest.raises(KeyboardInterrupt):
            with _signals_held():
                os.kill(os.getpid(), signal.SIGINT)
                os.kill(os.getpid(), signal.SIGINT)
                time.sleep(0.05)
                done.append("not reached")
        assert done == ["ray.init returned"] and signal.getsignal(signal.SIGINT) is before
    finally:
        signal.signal(signal.SIGINT, previous)


@pytest.fixture
def fake_ray(monkeypatch):
    """Ray with init, is_initialized and the connection replaced: (the calls to init, state)."""
    import ray

    from complement.retrieval import ray_cluster

    state = {"up": False, "session": ("s", "1")}
    asked: list[dict] = []

    def init(**kwargs):
        asked.append(kwargs)
        state["up"] = True

    monkeypatch.setattr(ray, "init", init)
    monkeypatch.setattr(ray, "is_initialized", lambda: state["up"])
    monkeypatch.setattr(ray_cluster, "session", lambda: state["session"] if state["up"] else None)
    monkeypatch.setattr(ray_cluster, "_joined", {"kind": None, "target": None, "session": None})
    monkeypatch.setattr(ray_cluster, "check_address", lambda *a, **k: None)
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    return asked, state


@needs_ray
def test_a_joined_process_refuses_another_address_and_rejoins_after_shutdown(fake_ray):
    from complement.retrieval import ray_cluster

    asked, state = fake_ray
    assert ray_cluster.connect() == "local instance"
    assert asked[-1]["logging_level"] >= 40 and asked[-1]["log_to_driver"] is False
    assert ray_cluster.connect() == "local instance" and len(asked) == 1
    with pytest.raises(
        DeviceError,
        match=r"already joined Ray at a new local instance, not "
        r"h:6379 \(set in c.toml\[options\]\)",
    ):
        ray_cluster.connect("h:6379", source="c.toml[options]")
    state["up"] = False  # ray.shutdown()
    assert ray_cluster.connect("h:6379") == "explicit" and asked[-1]["address"] == "h:6379"
    state["session"] = ("mine",)  # the caller's own ray.init after a shutdown: kept as it is
    assert ray_cluster.connect() == "existing connection" and len(asked) == 2


@needs_ray
def test_a_backend_rejoins_after_shutdown_and_records_the_join_it_made(fake_ray, monkeypatch):
    from complement.retrieval import ray as engine
    from complement.retrieval import ray_cluster

    asked, state = fake_ray
    monkeypatch.setattr(engine, "session", ray_cluster.session)  # the fake connection's
    clusters = iter([{"cpus": 2}, {"cpus": 8}])
    monkeypatch.setattr(engine, "cluster_info", lambda: next(clusters))
    backend = engine.ray_backend("cpu", join=False)
    assert not asked  # nothing started until a call needs it
    assert backend._join() == {"cpus": 2} and backend._join() == {"cpus": 2} and len(asked) == 1
    state["up"], state["session"] = False, ("s", "2")  # ray.shutdown(), then a call
    assert backend._join() == {"cpus": 8} and len(asked) == 2
    assert backend.record.address == "local instance"
    other = engine.ray_backend("cpu", address="h:6379", join=False)
    with pytest.raises(DeviceError, match="already joined Ray"):
        other._join()


@needs_ray
def test_the_command_line_checks_inputs_before_it_starts_ray(invoke, monkeypatch, tmp_path):
    """Ray starts on the first retrieval: a missing file is reported without waiting for it,
    and a malformed address before anything else."""
    from complement.retrieval import ray_cluster

    def no(*args, **kwargs):
        raise AssertionError("Ray was started")

    monkeypatch.setattr(ray_cluster, "connect", no)
    np.save(tmp_path / "s.npy", np.ones((5, 3), dtype=np.float32))
    result, _ = invoke("overlap", "s.npy", "missing.npy", "--engine", "ray", json_out=False)
    assert result.exit_code == 2 and "missing.npy" in result.output, result.output
    config = tmp_path / "c.toml"
    config.write_text('[options]\nengine = "ray"\nray_address = "localhost:-1"\n')
    result, _ = invoke("overlap", "s.npy", "s.npy", "--config", config, json_out=False)
    assert result.exit_code == 2
    assert f"ray_address 'localhost:-1' (set in {config}[options])" in result.output
    result, _ = invoke(
        "overlap", "s.npy", "s.npy", "--engine", "ray", "--ray-address", "", json_out=False
    )
    assert result.exit_code == 2 and "--ray-address '' is empty" in result.output


MISSING_CATALOGUE = """
import gc, os, sys, time
import numpy as np
import ray
import ray._private.worker as ray_worker
from complement.errors import DeviceError
from complement.retrieval import item_knn
from complement.retrieval.ray import ray_backend

from complement.retrieval import ray_cluster

unhandled = []
ray_worker._unhandled_error_handler = unhandled.append
os.cpu_count = lambda: 2  # a local instance of 2 CPUs, started as the command line starts it
assert ray_cluster.connect() == "local instance"
np.save("gone.npy", np.random.default_rng(0).standard_normal((300, 16)).astype(np.float32))
matrix = np.load("gone.npy", mmap_mode="r")
os.unlink("gone.npy")
try:
    item_knn(matrix, 10, ray_backend("cpu", shards=2), query_index=np.arange(40))
except DeviceError as exc:
    print(exc)
gc.collect()
time.sleep(1.0)
print("unhandled:", len(unhandled))
"""


@needs_ray
def test_a_catalogue_a_worker_cannot_open_is_one_line_and_nothing_after(tmp_path):
    """Every shard fails; the first is reported by its cause, the others are fetched, so Ray
    prints no "Unhandled error" traceback after complement's line, and neither the tasks'
    retried attempts nor Ray's warnings (token authentication) reach stdout or stderr."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAY_")}
    proc = run_python(MISSING_CATALOGUE, tmp_path, timeout=120, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stderr == "", proc.stderr[-3000:]
    line, count = proc.stdout.strip().splitlines()
    assert "could not open the memory-mapped catalogue" in line and "\x1b" not in line
    assert str(tmp_path / "gone.npy") in line
    assert count == "unhandled: 0", proc.stdout
