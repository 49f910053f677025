"""The Ray engine (``complement[ray]``): the same lists and JSON as the local engine.

One local Ray instance with 2 CPUs serves the whole module (started once, shut down at the
end); :class:`RayBackend` joins it. Skipped where Ray is not installed, except the checks that
complement works, and says what to install, without it.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import socket
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from complement.errors import DeviceError, UsageError
from complement.retrieval import get_backend, item_knn, user_topk
from complement.retrieval.exact import margins, row_norms
from tests.conftest import run_python

ROOT = Path(__file__).resolve().parents[2]
FIXTURE_CONFIG = "fixtures/movielens-100k/complement.toml"
HAVE_RAY = importlib.util.find_spec("ray") is not None
needs_ray = pytest.mark.skipif(not HAVE_RAY, reason="Ray is not installed (complement[ray])")


@pytest.fixture(scope="module")
def cluster():
    import ray

    started = not ray.is_initialized()
    if started:
        ray.init(num_cpus=2, include_dashboard=False, logging_level="WARNING")
    yield ray
    if started:
        ray.shutdown()


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(7)
    base = rng.standard_normal((1500, 24)).astype(np.float32)
    base[10] = base[11]  # an exact tie: the lower index must win on every shard
    queries = rng.standard_normal((301, 24)).astype(np.float32)
    lengths = rng.integers(0, 40, queries.shape[0])
    lengths[5] = 1495  # a query left with fewer items than k: -1 slots
    indptr = np.zeros(queries.shape[0] + 1, dtype=np.int64)
    np.cumsum(lengths, out=indptr[1:])
    indices = np.concatenate(
        [np.sort(rng.choice(base.shape[0], n, replace=False)) for n in lengths]
    ).astype(np.int64)
    qscale = rng.uniform(0.5, 2.0, queries.shape[0]).astype(np.float32)
    bscale = rng.uniform(0.5, 2.0, base.shape[0]).astype(np.float32)
    return base, queries, (indptr, indices), qscale, bscale


def same_lists(got, want, queries, base, qscale, bscale):
    """The same lists, and scores within the float32 product's error bound of each other.

    The lists are canonical (near-ties settled by the canonical score); a score that was not
    rescored is the BLAS's float32 product, whose last bits may depend on how many query rows
    went into one product (seen with OpenBLAS on AMD EPYC), hence the bound for scores.
    """
    np.testing.assert_array_equal(got[0], want[0])
    q = queries * (1 if qscale is None else qscale[:, None])
    b = base * (1 if bscale is None else bscale[:, None])
    bound = margins(row_norms(q), float(row_norms(b).max()), base.shape[1], want[1])
    finite = np.isfinite(want[1])
    np.testing.assert_array_equal(finite, np.isfinite(got[1]))
    gap = np.abs(got[1][finite] - want[1][finite])
    assert (gap <= np.broadcast_to(bound[:, None], finite.shape)[finite]).all() and gap.size


@needs_ray
@pytest.mark.parametrize("shards", [1, 2, 4])
def test_topk_equals_the_local_engine(cluster, data, shards):
    from complement.retrieval.ray import RayBackend

    base, queries, exclude, qscale, bscale = data
    local = get_backend("cpu")
    engine = RayBackend(local.device, local.name, shards=shards)
    kwargs = {"exclude": exclude, "query_scale": qscale, "base_scale": bscale}
    want = local.topk(queries, base, 10, **kwargs)
    seen: list[tuple[int, int]] = []
    got = engine.topk(queries, base, 10, progress=lambda d, t: seen.append((d, t)), **kwargs)
    same_lists(got, want, queries, base, qscale, bscale)
    assert (got[0][5] == -1).sum() == 10 - 5  # 1500 - 1495 items left for query 5
    assert seen[-1] == (queries.shape[0], queries.shape[0]) and len(seen) == shards
    info = engine.to_dict()
    assert info["engine"] == "ray" and info["backend"] == local.name
    call = info["ray"]["calls"][-1]
    assert call["shards"] == shards and len(call["shard_seconds"]) == shards
    assert call["workers"] >= 1 and info["ray"]["cpus"] == 2
    json.dumps(info)  # provenance is JSON


@needs_ray
def test_item_knn_and_user_topk_through_ray(cluster, data, tmp_path):
    from complement.retrieval.ray import ray_backend

    base, queries, exclude, _, bscale = data
    local = get_backend("cpu")
    engine = ray_backend("cpu", shards=2)
    assert engine.to_dict()["ray"]["address"] == "existing connection"
    np.testing.assert_array_equal(item_knn(base, 7, engine), item_knn(base, 7, local))
    sample = np.arange(3, base.shape[0], 11, dtype=np.int64)
    np.testing.assert_array_equal(
        item_knn(base, 7, engine, query_index=sample), item_knn(base, 7, local, query_index=sample)
    )
    same_lists(
        user_topk(queries, base, 20, engine, history=exclude, item_scale=bscale),
        user_topk(queries, base, 20, local, history=exclude, item_scale=bscale),
        queries,
        base,
        None,
        bscale,
    )
    # a memory-mapped .npy: every task maps the same path instead of the object store
    np.save(tmp_path / "base.npy", base)
    mapped = np.load(tmp_path / "base.npy", mmap_mode="r")
    np.testing.assert_array_equal(item_knn(mapped, 7, engine), item_knn(base, 7, local))
    assert engine.to_dict()["ray"]["calls"][-1]["base_from"] == "path"


@needs_ray
def test_item_knn_over_every_item_runs_its_tiles_on_ray(cluster, monkeypatch, tmp_path):
    """A catalogue the CPU's symmetric self-search takes runs as runs of tiles on Ray (each
    product once), with the lists of the local engine, also when one task fails once."""
    from complement.retrieval import symmetric
    from complement.retrieval.ray import FAIL_ONCE_ENV, ray_backend

    n = 2 * symmetric.MIN_ROWS  # two tiles of 4,096 rows: three tiles to share out
    base = np.random.default_rng(5).standard_normal((n, 8)).astype(np.float32)
    base[n - 1] = base[3]  # an exact tie across tiles: the lower index first everywhere
    want = item_knn(base, 7, get_backend("cpu"))
    engine = ray_backend("cpu", shards=2)
    seen: list[tuple[int, int]] = []
    np.testing.assert_array_equal(
        item_knn(base, 7, engine, progress=lambda d, t: seen.append((d, t))), want
    )
    call = engine.to_dict()["ray"]["calls"][-1]
    assert call["search"] == "symmetric tiles" and call["tiles"] == 3 and call["shards"] == 2
    assert call["queries"] == n and sum(call["shard_tiles"]) == 3 and seen[-1] == (n, n)
    assert want[3][0] == n - 1 and want[n - 1][0] == 3
    marker = tmp_path / "failed-once"
    monkeypatch.setenv(FAIL_ONCE_ENV, f"raise:{marker}")
    np.testing.assert_array_equal(item_knn(base, 7, engine), want)
    assert marker.exists()


@needs_ray
@pytest.mark.parametrize("mode", ["crash", "raise"])
def test_one_failed_task_is_retried_with_the_same_result(
    cluster, data, tmp_path, monkeypatch, mode
):
    from complement.retrieval.ray import FAIL_ONCE_ENV, ray_backend

    base, queries, exclude, _, _ = data
    marker = tmp_path / "failed-once"
    monkeypatch.setenv(FAIL_ONCE_ENV, f"{mode}:{marker}")
    want = get_backend("cpu").topk(queries, base, 10, exclude=exclude)
    got = ray_backend("cpu", shards=2).topk(queries, base, 10, exclude=exclude)
    assert marker.exists()  # one task did fail (a dead worker, or an OSError)
    same_lists(got, want, queries, base, None, None)


def _without_engine(doc: dict) -> str:
    """The document as JSON bytes without timings and the engine's provenance fields."""
    doc = json.loads(json.dumps(doc))
    doc.pop("timings", None)
    prov = doc.get("provenance", {})
    prov.get("retrieval", {}).pop("engine", None)
    prov.get("retrieval", {}).pop("ray", None)
    for part in ("values", "sources"):
        for key in ("engine", "ray_address"):
            prov.get("config", {}).get(part, {}).pop(key, None)
    return json.dumps(doc, sort_keys=True)


@needs_ray
@pytest.mark.parametrize("command", ["overlap", "hits"])
def test_pipeline_json_is_the_local_one(cluster, command, monkeypatch):
    from complement.config import resolve
    from complement.pipeline import load_context, with_provenance
    from complement.pipeline.hits import run_hits
    from complement.pipeline.overlap import run_overlap
    from complement.retrieval.ray import ray_backend

    monkeypatch.chdir(ROOT)
    settings = resolve(command, {"device": "cpu", "n_boot": 50}, config=FIXTURE_CONFIG)
    run = run_overlap if command == "overlap" else run_hits
    docs, backends = [], (get_backend("cpu"), ray_backend("cpu", shards=2))
    for backend in backends:
        section = run(load_context(settings, backend, need_split=command == "hits"))
        docs.append((section.doc, with_provenance(section, settings, backend)))
    (local_doc, local_full), (ray_doc, ray_full) = docs
    assert json.dumps(local_doc) == json.dumps(ray_doc)  # byte-identical without provenance
    assert _without_engine(local_full) == _without_engine(ray_full)
    engine = ray_full["provenance"]["retrieval"]
    assert engine["engine"] == "ray" and engine["ray"]["calls"]
    assert all(len(c["shard_seconds"]) == 2 for c in engine["ray"]["calls"])


@needs_ray
def test_cli_engine_ray_writes_the_local_json(cluster, invoke):
    config = str(ROOT / FIXTURE_CONFIG)
    args = ("overlap", "--config", config, "--device", "cpu", "--k", "5,10", "--quiet")
    result, local = invoke(*args)
    assert result.exit_code == 0, result.output
    result, remote = invoke(*args, "--engine", "ray")
    assert result.exit_code == 0, result.output
    assert remote["provenance"]["retrieval"]["engine"] == "ray"
    assert _without_engine(local) == _without_engine(remote)


def test_cli_engine_ray_without_ray_exits_2_with_the_install_command(invoke, monkeypatch):
    import complement.retrieval.ray_cluster as cluster_mod

    monkeypatch.setattr(cluster_mod, "ray_available", lambda: False)
    config = str(ROOT / FIXTURE_CONFIG)
    result, _ = invoke("overlap", "--config", config, "--engine", "ray", json_out=False)
    assert result.exit_code == 2
    assert "pip install 'complement[ray]'" in result.output


def test_importing_complement_never_imports_ray():
    code = (
        "import sys, complement, complement.cli.app, complement.retrieval, complement.pipeline\n"
        "import complement.retrieval.ray, complement.retrieval.ray_tasks\n"
        "assert 'ray' not in sys.modules, sorted(m for m in sys.modules if m.startswith('ray'))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


def test_engine_ray_without_ray_is_a_usage_error(monkeypatch):
    import complement.retrieval.ray as engine
    import complement.retrieval.ray_cluster as cluster_mod
    from complement.cli.common import backend_for
    from complement.config import Settings

    monkeypatch.setattr(cluster_mod, "ray_available", lambda: False)
    with pytest.raises(UsageError, match=r"pip install 'complement\[ray\]'") as err:
        engine.ray_backend("cpu")
    assert err.value.exit_code == 2
    settings = Settings(command="overlap", values={"device": "cpu", "engine": "ray"}, sources={})
    with pytest.raises(UsageError, match=r"pip install 'complement\[ray\]'"):
        backend_for(settings)


def test_shards_must_be_positive():
    from complement.retrieval.ray import RayBackend

    with pytest.raises(UsageError, match="shards"):
        RayBackend("cpu", "cpu-blas", shards=0)


def test_shard_plan_asks_one_gpu_per_task_on_cuda_and_splits_the_cpus():
    from complement.retrieval.ray import RayBackend

    def planned(device: str, shards: int | None, q: int, gpus: int = 4) -> tuple[int, int, int]:
        backend = RayBackend(device, "x", shards=shards)
        cluster = {"nodes": 2, "cpus": 16, "gpus": gpus, "node_cpus": 8}
        object.__setattr__(backend, "_join", lambda: cluster)  # as if joined: no cluster
        return backend._plan(q)

    assert planned("cuda", None, 1000) == (4, 1, 1)  # one shard per GPU, one GPU per task
    assert planned("cpu", None, 1000) == (16, 1, 0)  # one shard per CPU
    assert planned("cpu", 4, 1000) == (4, 4, 0)  # the CPUs shared out
    assert planned("cpu", None, 3) == (3, 5, 0)  # never more shards than queries
    assert planned("cpu", 1, 1000) == (1, 8, 0)  # at most one node's CPUs per task
    with pytest.raises(DeviceError, match="no GPUs"):
        planned("cuda", None, 1000, gpus=0)


def test_an_address_where_nothing_listens_is_a_device_error_at_once():
    from complement.retrieval.ray import check_address

    with pytest.raises(DeviceError, match="no Ray cluster answers at 127.0.0.1:1"):
        check_address("127.0.0.1:1", timeout=2)
    check_address("auto")  # left to Ray


class _Server:
    """A TCP server on 127.0.0.1 that answers each connection with ``reply`` (None: reads and
    stays silent until the client leaves)."""

    def __init__(self, reply: bytes | None) -> None:
        self.reply = reply
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.address = f"127.0.0.1:{self.sock.getsockname()[1]}"
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:  # closed
                return
            threading.Thread(target=self._answer, args=(conn,), daemon=True).start()

    def _answer(self, conn) -> None:
        with conn:
            try:
                conn.recv(64)
                if self.reply is not None:
                    conn.sendall(self.reply)
                conn.recv(64)  # until the client leaves
            except OSError:
                pass

    def close(self) -> None:
        self.sock.close()


#: an HTTP/2 server's first frame: an empty SETTINGS frame (what gRPC servers send)
H2_SETTINGS = bytes([0, 0, 0, 4, 0, 0, 0, 0, 0])


@pytest.mark.parametrize(
    "address, says",
    [
        ("http://127.0.0.1:8265", "is an HTTP address (the Ray dashboard or Jobs API)"),
        ("https://head.example:8265", "is an HTTP address"),
    ],
)
def test_a_dashboard_url_is_refused_with_the_address_to_give(address, says, monkeypatch):
    from complement.retrieval.ray import check_address

    with pytest.raises(DeviceError, match="HOST:6379") as err:
        check_address(address)
    assert says in str(err.value) and address in str(err.value)
    with pytest.raises(DeviceError, match=f"RAY_ADDRESS {address}"):
        check_address(address, source="RAY_ADDRESS")


@pytest.mark.parametrize(
    "reply, says",
    [
        (b"HTTP/1.0 400 Bad Request\r\n\r\n", "an HTTP/1 server replied to a gRPC greeting"),
        (b"-ERR unknown command\r\n", "it did not answer a gRPC greeting"),
        (None, "it sent no reply to a gRPC greeting, waiting up to 0.5 s"),
    ],
)
def test_a_server_that_is_not_ray_is_refused_at_once(reply, says, monkeypatch):
    """Where ray.init would retry for many minutes: a web server, a Redis, a silent port."""
    import time

    from complement.retrieval.ray import check_address

    monkeypatch.delenv("RAY_USE_TLS", raising=False)
    server = _Server(reply)
    try:
        started = time.monotonic()
        with pytest.raises(DeviceError, match="something answers at .*, but not a Ray cluster"):
            check_address(server.address, timeout=0.5)
        assert time.monotonic() - started < 5
        with pytest.raises(DeviceError) as err:
            check_address("ray://" + server.address, timeout=0.5)
        assert says in str(err.value) and "ray://HOST:10001" in str(err.value)
        monkeypatch.setenv("RAY_USE_TLS", "1")  # a TLS cluster speaks TLS first: not checked
        check_address(server.address, timeout=0.5)
    finally:
        server.close()


def test_a_grpc_server_passes_the_check():
    from complement.retrieval.ray import check_address

    server = _Server(H2_SETTINGS)
    try:
        check_address(server.address, timeout=2)
        check_address("ray://" + server.address, timeout=2)
    finally:
        server.close()


@needs_ray
def test_a_real_ray_gcs_passes_the_check(cluster):
    from complement.retrieval.ray import check_address

    check_address(cluster.get_runtime_context().gcs_address, timeout=5)


@needs_ray
def test_how_complement_asks_ray_to_start_or_join(monkeypatch):
    """No address: a new local instance (``address="local"``), never a cluster that ``ray
    start`` left on this machine; a failed join names token authentication unless it is on."""
    import ray

    from complement.retrieval import ray_cluster

    asked: list[dict] = []

    def init(**kwargs):
        asked.append(kwargs)
        raise ConnectionError("Failed to connect to Ray cluster")

    monkeypatch.setattr(ray, "is_initialized", lambda: False)
    monkeypatch.setattr(ray, "init", init)
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    monkeypatch.delenv("RAY_AUTH_MODE", raising=False)
    with pytest.raises(DeviceError, match=r"\(a local instance\)") as err:
        ray_cluster.connect()
    assert asked[-1]["address"] == "local" and asked[-1]["num_cpus"] >= 1
    assert "RAY_AUTH_MODE" not in str(err.value)
    server = _Server(H2_SETTINGS)
    try:
        with pytest.raises(DeviceError, match="set RAY_AUTH_MODE=token here"):
            ray_cluster.connect(server.address)
        assert asked[-1] == {
            "address": server.address,
            "logging_level": logging.ERROR,  # Ray's warnings (token set-up) stay off stderr
            "log_to_driver": False,  # and its workers' (retried tasks' tracebacks)
        }
        monkeypatch.setenv("RAY_AUTH_MODE", "token")
        with pytest.raises(DeviceError) as err:
            ray_cluster.connect(server.address)
        assert "RAY_AUTH_MODE" not in str(err.value)
    finally:
        server.close()


SIGTERM_IN_A_WAIT = """
import os, signal, sys, threading, time
from complement.cli.app import Terminated, _on_sigterm
from complement.retrieval import ray_cluster
from complement.retrieval.ray_tasks import collect as _collect

signal.signal(signal.SIGTERM, _on_sigterm)
ray_cluster.connect()  # a local instance: ray.init sets its own SIGTERM handler
assert signal.getsignal(signal.SIGTERM) is _on_sigterm, signal.getsignal(signal.SIGTERM)
import ray

@ray.remote
def slow():
    time.sleep(30)

threading.Timer(1.0, os.kill, (os.getpid(), signal.SIGTERM)).start()
try:
    _collect(ray, {slow.remote(): (0, 0, 1)}, 1, lambda *a: None, "query rows")
except Terminated:
    print("terminated")
"""


@needs_ray
def test_sigterm_while_waiting_on_ray_is_the_clis_termination():
    """After ``ray.init`` the CLI's SIGTERM handler is back, and a SIGTERM inside Ray's native
    wait comes out as the CLI's ``Terminated`` (exit 143, outputs untouched), not as Ray's
    ``sys.exit(15)`` or a SystemError traceback."""
    proc = run_python(SIGTERM_IN_A_WAIT, ROOT, timeout=180)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.strip() == "terminated"
    assert "Traceback" not in proc.stderr
