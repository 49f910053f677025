"""Study: what a call loads is decided by that call's options; inputs are held once, as given."""

from __future__ import annotations

import dataclasses

import numpy as np
import polars as pl
import pytest

import complement as cm
import complement.study as study_module
from complement.errors import ComplementError, InputError
from complement.pipeline import load_context
from complement.pipeline.context import log_given
from tests.conftest import FIXTURE


def _k(section) -> dict:
    return section.to_dict()["k"]


@pytest.fixture
def loads(monkeypatch) -> list:
    """Every load_context call a Study makes."""
    calls: list = []
    real = study_module.load_context

    def counting(settings, *args, **kwargs):
        calls.append(settings.command)
        return real(settings, *args, **kwargs)

    monkeypatch.setattr(study_module, "load_context", counting)
    return calls


# --- defect: per-call options that decide what is loaded -----------------------------------


def test_per_call_sem_key_is_loaded(tmp_path, ml_arrays):
    other = np.random.default_rng(1).standard_normal(ml_arrays["sem"].shape).astype(np.float32)
    two = tmp_path / "two.npz"
    np.savez(two, a=ml_arrays["sem"], b=other)
    common = {"sem_ids": FIXTURE / "item_ids.npy", "cf_ids": FIXTURE / "item_ids.npy"}
    st = cm.Study(two, FIXTURE / "cf.npy", sem_key="a", **common)
    a = st.overlap(k=[10])
    b = st.overlap(k=[10], sem_key="b")
    fresh = cm.Study(two, FIXTURE / "cf.npy", sem_key="b", **common).overlap(k=[10])
    assert _k(b) == _k(fresh) != _k(a)
    assert b.document()["provenance"]["config"]["values"]["sem_key"] == "b"


def test_per_call_min_shared_and_positional_ids_are_applied(ml_arrays):
    sem, cf, ids = ml_arrays["sem"], ml_arrays["cf"], ml_arrays["ids"]
    # 600 shared items of the smaller view's 1000: above the default min_shared 0.5
    st = cm.Study(sem[:1000], cf[400:], sem_ids=ids[:1000], cf_ids=ids[400:])
    assert st.overlap(k=[10]).to_dict()["n_items"] == 600
    with pytest.raises(ComplementError, match="min_shared"):
        st.overlap(k=[10], min_shared=0.9)
    positional = cm.Study(sem, cf, cf_ids=ids, positional_ids=True)
    positional.overlap(k=[10])
    with pytest.raises(ComplementError, match="positional_ids"):
        positional.overlap(k=[10], positional_ids=False)


def test_a_failing_study_load_does_not_block_a_call_that_loads_otherwise(ml_arrays, loads):
    sem, cf, ids = ml_arrays["sem"], ml_arrays["cf"], ml_arrays["ids"]
    nan = sem.copy()
    nan[0] = np.nan
    st = cm.Study(nan, cf, sem_ids=ids, cf_ids=ids)
    dropped = st.overlap(k=[10], drop_invalid=True)
    assert dropped.to_dict()["n_items"] == 1681
    assert loads == ["overlap"]  # the study-level load (which would fail) was never tried
    with pytest.raises(InputError, match="NaN"):
        st.overlap(k=[10])

    zero = sem.copy()
    zero[0] = 0
    assert cm.Study(zero, cf, sem_ids=ids, cf_ids=ids).overlap(k=[10], metric="ip")

    no_train = cm.Study(
        sem, cf, sem_ids=ids, cf_ids=ids, interactions=ml_arrays["log"], split="files"
    )
    assert _k(no_train.overlap(k=[10])) == _k(
        cm.Study(sem, cf, sem_ids=ids, cf_ids=ids, interactions=ml_arrays["log"]).overlap(k=[10])
    )
    with pytest.raises(InputError, match="train"):
        no_train.hits(k=[10], n_boot=20)


def test_a_call_reading_less_than_a_failing_study_load_runs(ml_arrays):
    """The study-level load reads the time column (for splits); overlap does not."""
    log = ml_arrays["log"].with_columns(pl.lit("not a time").alias("timestamp"))
    sem, cf, ids = ml_arrays["sem"], ml_arrays["cf"], ml_arrays["ids"]
    st = cm.Study(sem, cf, sem_ids=ids, cf_ids=ids, interactions=log)
    assert st.overlap(k=[10]).to_dict()["k"]["10"]["groups"]
    with pytest.raises(InputError, match="timestamps"):
        st.hits(k=[10], n_boot=20)


def test_every_setting_the_loader_reads_is_in_the_signature(tmp_path, ml_arrays):
    """Record every option load_context reads, in several set-ups: each one is compared
    before the study-level context is reused (or is a segment option, read again per call)."""
    log = ml_arrays["log"]
    log.head(60000).write_parquet(tmp_path / "train.parquet")
    log.tail(log.height - 60000).write_parquet(tmp_path / "test.parquet")
    seen: set[str] = set()

    class Recording(dict):
        def get(self, key, default=None):
            seen.add(key)
            return super().get(key, default)

        def __getitem__(self, key):
            seen.add(key)
            return super().__getitem__(key)

        def __contains__(self, key):
            seen.add(key)
            return super().__contains__(key)

    base = cm.Study.from_config(FIXTURE / "complement.toml")
    files = {
        "split": "files",
        "train": tmp_path / "train.parquet",
        "test": tmp_path / "test.parquet",
    }
    set_ups = [
        ("report", {}, True),
        ("report", {"segment_col": "activity"}, True),
        ("report", files, True),
        ("overlap", {}, False),
        ("hits", {}, True),
        ("probe", {}, True),
        ("probe", files, True),
        ("explain", {}, False),
        ("structure", {}, False),
    ]
    for command, options, need_split in set_ups:
        settings = base.settings(command, **options)
        recorded = dataclasses.replace(settings, values=Recording(settings.values))
        load_context(recorded, None, need_split=need_split and log_given(settings))
    known = study_module._LOAD_KEYS | set(study_module._SEGMENT_KEYS)
    assert seen - known == set()
    assert {"sem_key", "cf_key", "vector_cols", "positional_ids", "min_shared"} <= seen


def test_the_signature_decides_reuse():
    st = cm.Study.from_config(FIXTURE / "complement.toml")
    report = st.settings("report")
    base = study_module._signature(report, True)
    assert study_module._serves(base, study_module._signature(st.settings("hits"), True))
    assert study_module._serves(base, study_module._signature(st.settings("overlap"), False))
    assert study_module._serves(base, study_module._signature(st.settings("explain"), False))
    for options in (
        {"sem_key": "x"},
        {"cf_key": "x"},
        {"vector_cols": "e*"},
        {"positional_ids": True},
        {"min_shared": 0.9},
        {"drop_invalid": True},
        {"metric": "ip"},
        {"max_missing": 0.1},
        {"interactions": FIXTURE / "items.parquet"},  # another log
    ):
        call = study_module._signature(st.settings("overlap", **options), False)
        assert not study_module._serves(base, call), options
    files = cm.Study.from_config(FIXTURE / "complement.toml", split="files")
    files_base = study_module._signature(files.settings("report"), True)
    overlap = study_module._signature(files.settings("overlap"), False)
    assert not study_module._serves(files_base, overlap)  # overlap reads the one log file
    moved = study_module._signature(st.settings("hits", seed=1), True)
    assert not study_module._serves(base, moved)
    assert study_module._serves(
        base, study_module._signature(st.settings("overlap", seed=1), False)
    )


# --- defect: in-memory inputs are held once, as given --------------------------------------


def test_arrays_load_once_like_paths(ml_arrays, loads):
    sem, cf, ids = ml_arrays["sem"], ml_arrays["cf"], ml_arrays["ids"]
    st = cm.Study(sem, cf, sem_ids=ids, cf_ids=ids, interactions=ml_arrays["log"])
    for _ in range(3):
        st.overlap(k=[10])
    st.hits(k=[10], n_boot=20)
    st.hits(k=[20], n_boot=20)
    assert loads == ["report"]
    hashes = {st.overlap(k=[10]).document()["provenance"]["inputs"]["semantic"]["sha256"]}
    hashes.add(st.hits(k=[10], n_boot=20).document()["provenance"]["inputs"]["semantic"]["sha256"])
    assert len(hashes) == 1 and loads == ["report"]


def test_changing_the_callers_array_changes_nothing(ml_arrays):
    sem, cf, ids = ml_arrays["sem"], ml_arrays["cf"], ml_arrays["ids"]
    a = sem.copy()
    st = cm.Study(a, cf, sem_ids=ids, cf_ids=ids)
    before = st.overlap(k=[10])
    a[:] = np.random.default_rng(0).standard_normal(a.shape)
    after = st.overlap(k=[10])
    assert _k(after) == _k(before)
    assert (
        after.document()["provenance"]["inputs"]["semantic"]
        == before.document()["provenance"]["inputs"]["semantic"]
    )


def test_changing_the_callers_frame_changes_nothing(ml_arrays):
    """A polars frame built from numpy shares its memory: the study holds a copy."""
    log = ml_arrays["log"]
    users = log["user_id"].to_numpy().copy()
    frame = log.with_columns(pl.Series("user_id", users))
    sem, cf, ids = ml_arrays["sem"], ml_arrays["cf"], ml_arrays["ids"]
    st = cm.Study(sem, cf, sem_ids=ids, cf_ids=ids, interactions=frame)
    before = st.overlap(k=[10]).document()
    users[:] = users[0]
    after = st.overlap(k=[10]).document()
    assert after == before
    pandas = log.to_pandas()
    st = cm.Study(sem, cf, sem_ids=ids, cf_ids=ids, interactions=pandas)
    before = st.overlap(k=[10]).document()
    pandas.iloc[:, 0] = pandas.iloc[0, 0]
    assert st.overlap(k=[10]).document() == before


def test_reassigning_an_input_is_seen(ml_arrays):
    sem, cf, ids = ml_arrays["sem"], ml_arrays["cf"], ml_arrays["ids"]
    st = cm.Study(sem, cf, sem_ids=ids, cf_ids=ids)
    first = st.overlap(k=[10])
    st.sem = np.random.default_rng(2).standard_normal(sem.shape).astype(np.float32)
    assert _k(st.overlap(k=[10])) != _k(first)


def test_the_views_of_compare_are_held_as_given(ml_arrays):
    sem, cf, ids = ml_arrays["sem"].copy(), ml_arrays["cf"], ml_arrays["ids"]
    st = cm.Study(view=[("sem", sem, ids), ("cf", cf, ids)])
    before = st.compare(k=[10]).to_dict()
    sem[:] = np.random.default_rng(0).standard_normal(sem.shape)
    assert st.compare(k=[10]).to_dict() == before
    fresh = cm.Study().compare(k=[10], view=[("sem", sem, ids), ("cf", cf, ids)]).to_dict()
    assert fresh != before  # a call's own views are read as they are now


def test_align_export_never_overwrites_an_input(tmp_path, monkeypatch):
    """Study.align(export=...) checks the export's files against the inputs before any
    training, as the command line does."""
    from complement.core import align as align_core

    def trained(*_a, **_k):
        raise AssertionError("align trained before refusing the export")

    monkeypatch.setattr(align_core, "align", trained)
    ids = np.load(FIXTURE / "item_ids.npy")
    np.savez(tmp_path / "ncn_items.npz", embeddings=np.load(FIXTURE / "sem.npy"), ids=ids)
    before = (tmp_path / "ncn_items.npz").read_bytes()
    st = cm.Study(
        tmp_path / "ncn_items.npz",
        FIXTURE / "cf.npy",
        cf_ids=FIXTURE / "item_ids.npy",
        interactions=FIXTURE / "interactions.parquet",
    )
    with pytest.raises(InputError, match="ncn_items.npz is one of this run's inputs"):
        st.align(method="ncn", export=tmp_path)
    assert (tmp_path / "ncn_items.npz").read_bytes() == before
