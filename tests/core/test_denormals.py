"""Denormals flushed to zero in the probe's MLPs: the mode is set and restored per thread, and
a fit on the fixture's semantic view (two dimensions of about 1e-33, which make denormal
products) gives the same bits with and without it."""

from __future__ import annotations

import threading
from contextlib import nullcontext

import numpy as np
import pytest

from tests.conftest import FIXTURE

torch = pytest.importorskip("torch")

from complement.core import probe_models  # noqa: E402
from complement.core.denormals import flush_denormals, flushing  # noqa: E402

SMALLEST_NORMAL = float(np.finfo(np.float32).tiny)
#: x86 CPUs with SSE3 have the modes; elsewhere flush_denormals sets nothing
HAS_MODES = bool(torch.set_flush_denormal(True))
torch.set_flush_denormal(False)
needs_modes = pytest.mark.skipif(not HAS_MODES, reason="this CPU has no flush-to-zero mode")


@needs_modes
def test_set_inside_restored_after():
    assert not flushing(torch)
    with flush_denormals("cpu"):
        assert flushing(torch)
        tiny = torch.tensor(1e-39, dtype=torch.float32)
        assert float(tiny * 1.0) == 0.0
    assert not flushing(torch)
    assert float(torch.tensor(1e-39, dtype=torch.float32) * 1.0) > 0.0


@needs_modes
def test_a_mode_set_before_is_kept():
    assert torch.set_flush_denormal(True)
    try:
        with flush_denormals("cpu"):
            assert flushing(torch)
        assert flushing(torch)
    finally:
        torch.set_flush_denormal(False)
    assert not flushing(torch)


@needs_modes
def test_other_threads_and_devices_are_left_alone():
    seen: dict[str, bool] = {}
    inside = threading.Event()
    leave = threading.Event()

    def other() -> None:
        inside.wait(10)
        seen["other thread"] = flushing(torch)
        leave.set()

    thread = threading.Thread(target=other)
    thread.start()
    with flush_denormals("cpu"):
        inside.set()
        leave.wait(10)
        seen["this thread"] = flushing(torch)
    thread.join()
    assert seen == {"other thread": False, "this thread": True}
    with flush_denormals("cuda"):  # not a CPU: nothing set (no GPU needed to say so)
        assert not flushing(torch)


def _fixture_pairs(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Centred, L2-normalised semantic sources and collaborative targets of n fixture items."""
    sem = np.load(FIXTURE / "sem.npy")[:n].astype(np.float64)
    cf = np.load(FIXTURE / "cf.npy")[:n].astype(np.float64)
    x = sem / np.linalg.norm(sem, axis=1, keepdims=True)
    y = cf / np.linalg.norm(cf, axis=1, keepdims=True)
    return x - x.mean(axis=0), y - y.mean(axis=0)


def _fit(x: np.ndarray, y: np.ndarray) -> tuple[list[np.ndarray], np.ndarray, dict]:
    probe = probe_models.fit_mlp(x, y, "mlp1", seed=3, max_epochs=6)
    weights = [t.detach().numpy().copy() for t in probe.module.state_dict().values()]
    return weights, probe.predict(x), probe.info


def test_a_fit_with_denormal_products_is_the_same_bits(monkeypatch):
    x, y = _fixture_pairs(500)
    dead = np.abs(x).max(axis=0) < 1e-30
    assert dead.sum() >= 1  # the view's dead dimensions make denormal weight gradients:
    model = probe_models._model(x.shape[1], y.shape[1], "mlp1", 3, "cpu")
    xt, yt = torch.as_tensor(x, dtype=torch.float32), torch.as_tensor(y, dtype=torch.float32)
    torch.nn.functional.mse_loss(model(xt), yt).backward()
    grad = np.abs(model[0].weight.grad.numpy()[:, dead])
    assert ((grad > 0) & (grad < SMALLEST_NORMAL)).any()
    flushed = _fit(x, y)
    monkeypatch.setattr(probe_models, "flush_denormals", lambda device: nullcontext())
    plain = _fit(x, y)
    for a, b in zip(flushed[0], plain[0], strict=True):
        np.testing.assert_array_equal(a.view(np.int32), b.view(np.int32))
    np.testing.assert_array_equal(flushed[1].view(np.int64), plain[1].view(np.int64))
    assert flushed[2] == plain[2]
