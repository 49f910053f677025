"""The paper's probe protocol: fixed epochs, raw rows, Rec Jaccard, the drop's floor."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from complement.core import probe_models
from complement.core.probe import REC_FLOOR, CapacityResult, fit_capacity, run_probe
from complement.core.probe_metrics import (
    SetMetrics,
    l2_rows,
    list_jaccard,
    rec_lists,
    rec_task,
)
from complement.core.shifts import make_item_shift
from complement.core.splits import TEST, TRAIN
from complement.errors import UsageError
from complement.retrieval import get_backend

BACKEND = get_backend("cpu")


def _log(seed=0, n_items=120, n_users=15, rows=1500):
    rng = np.random.default_rng(seed)
    users = rng.integers(0, n_users, size=rows)
    items = rng.integers(0, n_items, size=rows)
    part = np.where(rng.random(rows) < 0.3, TEST, TRAIN).astype(np.int8)
    return users, items, part


def _brute_top(scores, hist, k):
    order = [i for i in np.lexsort((np.arange(scores.size), -scores)) if i not in hist]
    return order[:k]


def test_fixed_epochs_train_on_every_item_without_holdout():
    rng = np.random.default_rng(1)
    x, y = rng.standard_normal((90, 5)), rng.standard_normal((90, 3))
    a = fit_capacity("mlp1", x, y, seed=2, epochs=7)
    b = fit_capacity("mlp1", x, y, seed=2, epochs=7)
    np.testing.assert_array_equal(a.predict(x), b.predict(x))
    assert a.info["early_stop"] is False and a.info["epochs_run"] == 7
    assert a.info["n_valid"] == 0 and "best_epoch" not in a.info
    # the reported train MSE is the final model's on all items (float32 forward pass)
    mse = float(np.mean((a.predict(x).astype(np.float32) - y.astype(np.float32)) ** 2))
    assert a.info["train_mse"] == pytest.approx(mse, rel=1e-5)
    # more epochs fit the training items better (pure noise: nothing else to learn)
    c = fit_capacity("mlp1", x, y, seed=2, epochs=60)
    assert c.info["train_mse"] < a.info["train_mse"]
    with pytest.raises(UsageError, match="--epochs 0"):
        fit_capacity("mlp1", x, y, epochs=0)


def test_mlp_fit_does_not_import_inductor_and_restores_torch_state():
    code = (
        "import sys, numpy as np, torch\n"
        "from complement.core.probe import fit_capacity\n"
        "t = torch.get_num_threads()\n"
        "fit_capacity('mlp1', np.ones((30, 3)), np.ones((30, 2)), max_epochs=2)\n"
        "assert 'torch._inductor' not in sys.modules and 'torch._dynamo' not in sys.modules\n"
        "assert not torch.are_deterministic_algorithms_enabled()\n"
        "assert torch.get_num_threads() == t\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_cpu_adam_is_torch_adam_bit_for_bit():
    import torch
    from torch import nn

    def run(make_opt):
        torch.manual_seed(0)
        model = nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Linear(16, 3))
        opt = make_opt(model)
        gen = torch.Generator().manual_seed(1)
        x, y = torch.randn(64, 6, generator=gen), torch.randn(64, 3, generator=gen)
        for _ in range(40):
            opt.zero_grad()
            nn.functional.mse_loss(model(x), y).backward()
            opt.step()
        return [p.detach().clone() for p in model.parameters()]

    ours = run(lambda m: probe_models._optimizer(m, "cpu"))
    theirs = run(lambda m: torch.optim.Adam(m.parameters(), lr=probe_models.LR))
    assert isinstance(probe_models._optimizer(nn.Linear(2, 2), "cpu"), probe_models._CpuAdam)
    for a, b in zip(ours, theirs, strict=True):
        assert torch.equal(a, b)


def test_reference_fit_in_a_second_thread_equals_the_sequential_fit():
    rng = np.random.default_rng(3)
    x, y = rng.standard_normal((200, 6)), rng.standard_normal((200, 4))
    counts = rng.integers(0, 50, size=200)
    shift = make_item_shift("popularity", 200, train_counts=counts)
    reference = make_item_shift("random", 200)
    res = run_probe(x, y, shift, reference, ["mlp1"], BACKEND, max_epochs=15, seed=5)
    cap = res.capacities["mlp1"]
    xs, yt = l2_rows(x), l2_rows(y)
    for sh, check in ((shift, None), (reference, cap.random_test)):
        mx, my = xs[sh.train].mean(axis=0), yt[sh.train].mean(axis=0)
        fit = fit_capacity("mlp1", xs[sh.train] - mx, yt[sh.train] - my, max_epochs=15, seed=5)
        mapped = fit.predict(xs - mx) + my
        if check is None:
            assert fit.info == cap.fit
            np.testing.assert_array_equal(
                np.einsum("ij,ij->i", mapped - yt, mapped - yt), cap.item_sq_error
            )
        else:
            t = yt[sh.test]
            r2 = 1 - ((t - mapped[sh.test]) ** 2).sum() / ((t - t.mean(axis=0)) ** 2).sum()
            assert check[0] == pytest.approx(r2, abs=1e-12)


def test_raw_rows_are_probed_unnormalised():
    rng = np.random.default_rng(4)
    x = rng.standard_normal((120, 5)) * rng.uniform(0.5, 3.0, size=(120, 1))
    y = x @ rng.standard_normal((5, 3)) + 0.1 * rng.standard_normal((120, 3))
    shift = make_item_shift("random", 120)
    res = run_probe(x, y, shift, shift, ["linear"], BACKEND, alpha=0.5, raw=True)
    tr, te = shift.train, shift.test
    mx, my = x[tr].mean(axis=0), y[tr].mean(axis=0)
    xc = x[tr] - mx
    w = np.linalg.solve(xc.T @ xc + 0.5 * np.eye(5), xc.T @ (y[tr] - my))
    pred = (x[te] - mx) @ w + my
    r2 = 1 - ((y[te] - pred) ** 2).sum() / ((y[te] - y[te].mean(axis=0)) ** 2).sum()
    assert res.capacities["linear"].test.r2 == pytest.approx(r2, abs=1e-9)
    assert res.to_dict()["protocol"] == {
        "early_stop": True, "epochs": None, "max_epochs": 200, "raw": True,
    }  # fmt: skip
    normed = run_probe(x, y, shift, shift, ["linear"], BACKEND, alpha=0.5)
    assert normed.capacities["linear"].test.r2 != pytest.approx(r2, abs=1e-3)


def test_list_jaccard_ignores_missing_entries():
    a = np.array([[1, 2, 3], [4, 5, -1], [-1, -1, -1]])
    b = np.array([[3, 2, 9], [6, -1, -1], [-1, -1, -1]])
    # row 0: {2,3} / {1,2,3,9}; row 1: {} / {4,5,6}; row 2: both empty, left out
    assert list_jaccard(a, b) == pytest.approx((2 / 4 + 0) / 2)
    assert list_jaccard(a[2:], b[2:]) is None


def test_rec_jaccard_matches_brute_force_top_k_lists():
    n_items, n_users, k = 120, 15, 5
    users, items, part = _log()
    rng = np.random.default_rng(5)
    uvec = rng.standard_normal((n_users, 3)).astype(np.float32)
    have = np.ones(n_users, dtype=bool)
    x, y = rng.standard_normal((n_items, 6)), rng.standard_normal((n_items, 3))
    shift = make_item_shift("random", n_items)
    task = rec_task(users, items, part, uvec, have, shift.test, n_items, k=k)
    res = run_probe(x, y, shift, shift, ["linear"], BACKEND, alpha=1.0, rec=task)
    cap = res.capacities["linear"]
    xs, yt = l2_rows(x), l2_rows(y)
    mx, my = xs[shift.train].mean(axis=0), yt[shift.train].mean(axis=0)
    xc = xs[shift.train] - mx
    w = np.linalg.solve(xc.T @ xc + np.eye(6), xc.T @ (yt[shift.train] - my))
    mapped = (xs - mx) @ w + my
    jac, n = [], 0
    for u in task.data.users:
        hist = set(items[(users == u) & (part != TEST)].tolist())
        a = set(_brute_top(yt.astype(np.float32) @ uvec[u], hist, k))
        b = set(_brute_top(mapped.astype(np.float32) @ uvec[u], hist, k))
        jac.append(len(a & b) / len(a | b))
        n += 1
    assert n == task.data.n_users > 0
    assert cap.rec_jaccard == pytest.approx(np.mean(jac))
    assert 0 < cap.rec_jaccard < 1
    # lists with the true vectors are those the recall uses
    true_lists = rec_lists(task, yt, BACKEND)
    assert true_lists.shape == (n, k)


def _metrics():
    return SetMetrics(
        n=10, r2=0.5, r2_uniform=0.4, cosine=0.9, geojac=0.3, geojac_k=9, spearman=0.2
    )


@pytest.mark.parametrize(
    ("rec_true", "rec_mapped", "pct", "below"),
    [(0.2, 0.05, 75.0, False), (REC_FLOOR, 0.0, 100.0, False), (0.0003, 0.0255, None, True),
     (0.0, 0.1, None, True)],
)  # fmt: skip
def test_drop_pct_only_above_the_floor(rec_true, rec_mapped, pct, below):
    train = _metrics()
    test = SetMetrics(n=5, r2=-0.5, r2_uniform=-0.7, cosine=0.5, geojac=0.1, geojac_k=4,
                      spearman=0.0)  # fmt: skip
    cap = CapacityResult("linear", train, test, {}, (0.1, 0.1), rec_true, rec_mapped, 0.2)
    doc = cap.to_dict()
    assert doc["drop_abs"] == pytest.approx(rec_true - rec_mapped)
    assert doc["drop_below_floor"] is below
    assert doc["drop_pct"] == (None if pct is None else pytest.approx(pct))
    assert doc["train_test_gap"] == {"r2": pytest.approx(1.0), "r2_uniform": pytest.approx(1.1)}
    assert doc["rec_jaccard"] == 0.2
    none = CapacityResult("linear", train, test, {}, (0.1, 0.1)).to_dict()
    assert none["drop_abs"] is None and none["drop_below_floor"] is None


def test_check_options_refuses_zero_fixed_epochs():
    x = np.ones((100, 3))
    shift = make_item_shift("random", 100)
    with pytest.raises(UsageError, match="--epochs 0"):
        run_probe(x, x, shift, shift, ["mlp1"], BACKEND, epochs=0)
    assert probe_models.MLP_LAYERS["mlp3"] == (2048, 2048, 2048)


def test_mlp_predictions_do_not_depend_on_torch_threads():
    import torch

    rng = np.random.default_rng(6)
    x, y = rng.standard_normal((1200, 384)), rng.standard_normal((1200, 64))
    fit = fit_capacity("mlp2", x, y, seed=0, epochs=1)
    before = torch.get_num_threads()
    try:
        outs = []
        for threads in (1, 2):
            torch.set_num_threads(threads)
            outs.append(fit.predict(x))
            assert torch.get_num_threads() == threads  # restored after predicting
        # two threads split the 2048-wide products differently: predict runs on one
        np.testing.assert_array_equal(outs[0], outs[1])
    finally:
        torch.set_num_threads(before)


def test_true_side_kept_across_capacities_changes_no_number():
    """The k-NN lists and anchor ranks of the true rows are computed once per set and reused
    for the next mapped rows; every metric equals a fresh computation, and new rows start
    afresh."""
    from complement.core.probe_metrics import TrueSide, set_metrics

    rng = np.random.default_rng(7)
    true = l2_rows(rng.standard_normal((150, 6)))  # 150 anchors: three blocks of 64
    side = TrueSide()
    for noise in (0.3, 0.8):
        mapped = l2_rows(true + noise * rng.standard_normal(true.shape))
        assert set_metrics(true, mapped, BACKEND, 0, side=side) == set_metrics(
            true, mapped, BACKEND, 0
        )
    assert {key[0] for key in side.values} == {"knn", "ranks"}
    other = l2_rows(rng.standard_normal((90, 6)))
    mapped = l2_rows(other + 0.5 * rng.standard_normal(other.shape))
    assert set_metrics(other, mapped, BACKEND, 3, side=side) == set_metrics(
        other, mapped, BACKEND, 3
    )
    assert side.true is not None and side.true.shape == (90, 6)


def test_probe_with_torch_loading_in_the_background_gives_the_same_numbers():
    """A fresh process (torch not yet loaded: run_probe starts loading it while the linear
    capacity fits) gives the same document as this one (torch long loaded)."""
    code = (
        "import json, sys\n"
        "import numpy as np\n"
        "from complement.core import torch_prefetch\n"
        "from complement.core.probe import run_probe\n"
        "from complement.core.shifts import make_item_shift\n"
        "from complement.retrieval import get_backend\n"
        "assert 'torch' not in sys.modules\n"
        "rng = np.random.default_rng(3)\n"
        "x, y = rng.standard_normal((200, 6)), rng.standard_normal((200, 4))\n"
        "counts = rng.integers(0, 50, size=200)\n"
        "shift = make_item_shift('popularity', 200, train_counts=counts)\n"
        "reference = make_item_shift('random', 200)\n"
        "res = run_probe(x, y, shift, reference, ['linear', 'mlp1'], get_backend('cpu'),\n"
        "                max_epochs=15, seed=5)\n"
        "thread = torch_prefetch._prefetch['thread']\n"
        "assert thread is not None and not thread.is_alive()\n"
        "print(json.dumps(res.to_dict()))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True, timeout=300
    )
    rng = np.random.default_rng(3)
    x, y = rng.standard_normal((200, 6)), rng.standard_normal((200, 4))
    counts = rng.integers(0, 50, size=200)
    shift = make_item_shift("popularity", 200, train_counts=counts)
    reference = make_item_shift("random", 200)
    res = run_probe(x, y, shift, reference, ["linear", "mlp1"], BACKEND, max_epochs=15, seed=5)
    assert done.stdout.strip().splitlines()[-1] == json.dumps(res.to_dict())
