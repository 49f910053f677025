"""Study: keywords checked against their options, frames of every common kind, errors in
Python's words."""

from __future__ import annotations

import hashlib
import io
import json

import numpy as np
import polars as pl
import pytest

import complement as cm
from complement.errors import ComplementError, InputError, UsageError
from complement.io.items import load_items
from complement.io.loaders import items_from, split_files_from
from complement.io.sources import InMemory, wrap
from complement.io.split_logs import load_split_files
from complement.keywords import api_message
from tests.conftest import FIXTURE


@pytest.fixture(scope="module")
def study(ml_arrays) -> cm.Study:
    return cm.Study(
        ml_arrays["sem"], ml_arrays["cf"], sem_ids=ml_arrays["ids"], cf_ids=ml_arrays["ids"]
    )


# --- defect: keyword values are checked against the option's kind --------------------------


@pytest.mark.parametrize(
    "options",
    [
        {"seed": "0"},
        {"seed": 1.5},
        {"seed": True},
        {"sample": 100.7},
        {"sample": np.float64(100.0)},
        {"k": "ten"},
        {"k": [10.5]},
        {"k": np.array([[10, 20]])},
        {"metric": "euclid"},
        {"metric": 3},
        {"drop_invalid": "false"},
        {"drop_invalid": 1},
        {"max_missing": "0.5"},
    ],
)
def test_a_wrong_type_is_a_usage_error_naming_the_keyword(study, options):
    [(name, _)] = options.items()
    with pytest.raises(UsageError) as caught:
        study.overlap(**options)
    message = str(caught.value)
    assert f"{name}=" in message and "--" not in message and "\n" not in message


@pytest.mark.parametrize(
    ("method", "options"),
    [
        ("hits", {"n_boot": 10.5}),
        ("hits", {"test_frac": "0.3"}),
        ("hits", {"split": "by-user"}),
        ("probe", {"early_stop": "no"}),
    ],
)
def test_every_method_checks_its_keywords(ml_arrays, method, options):
    st = cm.Study(
        ml_arrays["sem"], ml_arrays["cf"], sem_ids=ml_arrays["ids"], cf_ids=ml_arrays["ids"]
    )
    [(name, _)] = options.items()
    with pytest.raises(UsageError, match=f"{name}="):
        getattr(st, method)(**options)


def test_study_keywords_are_checked_at_construction(ml_arrays):
    with pytest.raises(UsageError, match="drop_invalid='false'"):
        cm.Study(ml_arrays["sem"], ml_arrays["cf"], drop_invalid="false")
    with pytest.raises(UsageError, match="seed="):
        cm.Study(seed="0")
    with pytest.raises(UsageError, match="sem_ids=5"):
        cm.Study(sem_ids=5)
    with pytest.raises(UsageError, match="config="):
        cm.Study(config=3)


@pytest.mark.parametrize("name", ["run_dir", "json", "per_item", "rankings", "quiet"])
def test_command_line_outputs_are_not_arguments(study, name):
    """--run-dir was taken and ignored (nothing written, nothing said); the other outputs were
    TypeErrors suggesting unrelated keywords ('per_item': did you mean 'items'?)."""
    for call in (lambda: study.hits(**{name: "out"}), lambda: cm.Study(**{name: "out"})):
        with pytest.raises(TypeError) as caught:
            call()
        message = str(caught.value)
        assert f"--{name.replace('_', '-')} is an output of the command line" in message
        assert "did you mean" not in message


def test_numpy_values_are_their_python_values(study):
    plain = study.overlap(k=(10, 20), seed=0, sample=500)
    numpy = study.overlap(k=np.array([10, 20]), seed=np.int64(0), sample=np.int32(500))
    listed = study.overlap(k=[np.int64(10), np.int64(20)], seed=np.uint8(0), sample=500)
    assert plain.to_dict() == numpy.to_dict() == listed.to_dict()
    json.dumps(numpy.document(), allow_nan=False)  # no numpy scalar reached the document
    assert study.overlap(k=10, drop_invalid=np.bool_(False)).to_dict()["k"].keys() == {"10"}


def test_numpy_floats_and_bools_for_the_split(ml_arrays):
    sem, cf, ids, log = ml_arrays["sem"], ml_arrays["cf"], ml_arrays["ids"], ml_arrays["log"]
    st = cm.Study(sem, cf, sem_ids=ids, cf_ids=ids, interactions=log, split="user-temporal")
    a = st.hits(k=[10], n_boot=20, test_frac=0.25, valid_frac=np.float64(0.1))
    b = st.hits(k=[10], n_boot=np.int64(20), test_frac=np.float64(0.25), valid_frac=0.1)
    assert a.to_dict() == b.to_dict()


def test_a_bool_flag_takes_only_bools(ml_arrays):
    sem, ids = ml_arrays["sem"].copy(), ml_arrays["ids"]
    sem[0] = np.nan
    with pytest.raises(UsageError, match="drop_invalid="):
        cm.Study(sem, ml_arrays["cf"], sem_ids=ids, cf_ids=ids, drop_invalid="false")
    kept = cm.Study(sem, ml_arrays["cf"], sem_ids=ids, cf_ids=ids, drop_invalid=np.True_)
    assert kept.overlap(k=[10]).to_dict()["n_items"] == 1681


# --- defect: frames of every common kind ---------------------------------------------------


def test_pandas_and_lazy_frames_are_logs(ml_arrays):
    sem, cf, ids, log = ml_arrays["sem"], ml_arrays["cf"], ml_arrays["ids"], ml_arrays["log"]
    common = {"sem_ids": ids, "cf_ids": ids}
    polars = cm.Study(sem, cf, interactions=log, **common).overlap(k=[10]).to_dict()
    pandas = cm.Study(sem, cf, interactions=log.to_pandas(), **common).overlap(k=[10])
    lazy = cm.Study(sem, cf, interactions=log.lazy(), **common).overlap(k=[10])
    assert pandas.to_dict() == lazy.to_dict() == polars
    per_call = cm.Study(sem, cf, **common).overlap(k=[10], interactions=log.to_pandas())
    assert per_call.to_dict() == polars


def test_a_log_with_a_list_column_is_read_and_hashed(ml_arrays):
    sem, cf, ids, log = ml_arrays["sem"], ml_arrays["cf"], ml_arrays["ids"], ml_arrays["log"]
    extra = log.with_columns(tags=pl.concat_list("user_id", "item_id"))
    section = cm.Study(sem, cf, sem_ids=ids, cf_ids=ids, interactions=extra).overlap(k=[10])
    inputs = section.document()["provenance"]["inputs"]["interactions"]
    assert len(inputs["sha256"]) == 64
    again = InMemory(extra, "interactions").fingerprint()
    assert again["sha256"] == inputs["sha256"]  # deterministic


def test_a_frame_csv_can_write_keeps_its_hash(ml_arrays):
    log = ml_arrays["log"]
    buffer = io.BytesIO()
    log.write_csv(buffer)
    expected = hashlib.sha256(buffer.getvalue()).hexdigest()
    assert wrap(log, "interactions").fingerprint()["sha256"] == expected
    assert wrap(log, "interactions", snapshot=True).fingerprint()["sha256"] == expected


def test_an_unreadable_frame_is_an_input_error():
    objects = pl.DataFrame({"o": [object()]}, schema={"o": pl.Object})
    with pytest.raises(InputError, match="fingerprint"):
        InMemory(objects, "interactions").fingerprint()


def test_frames_for_path_only_inputs_are_refused(ml_arrays):
    sem, cf, ids = ml_arrays["sem"], ml_arrays["cf"], ml_arrays["ids"]
    st = cm.Study(sem, cf, sem_ids=ids, cf_ids=ids)
    items = pl.read_parquet(FIXTURE / "items.parquet")
    with pytest.raises(InputError, match="items="):
        st.explain("Toy Story", items=items)
    with pytest.raises(InputError, match="items="):
        cm.Study(sem, cf, items=items.to_pandas())


def test_split_files_given_as_frames_equal_the_files(ml_arrays, tmp_path):
    sem, cf, ids, log = ml_arrays["sem"], ml_arrays["cf"], ml_arrays["ids"], ml_arrays["log"]
    train, test = log.head(80000), log.tail(20000)
    train.write_parquet(tmp_path / "train.parquet")
    test.write_parquet(tmp_path / "test.parquet")
    st = cm.Study(sem, cf, sem_ids=ids, cf_ids=ids, split="files", valid_frac=0.0)
    from_files = st.hits(k=[10], train=tmp_path / "train.parquet", test=tmp_path / "test.parquet")
    from_frames = st.hits(k=[10], train=train, test=test.to_pandas())
    a, b = from_frames.to_dict(), from_files.to_dict()
    assert a["interactions"].pop("path").startswith("<in-memory frame 80000×4: train>+")
    assert b["interactions"].pop("path").endswith("train.parquet+" + str(tmp_path / "test.parquet"))
    assert a == b


def test_items_from_a_frame_equals_the_file():
    frame = pl.read_parquet(FIXTURE / "items.parquet")
    got = items_from(wrap(frame, "items"), item_col="item_id", title_col="title")
    want = load_items(FIXTURE / "items.parquet")
    assert (got.ids == want.ids).all() and (got.titles == want.titles).all()
    with pytest.raises(InputError, match="no column"):
        items_from(wrap(frame, "items"), title_col="name")
    with pytest.raises(InputError, match="polars DataFrame"):
        items_from(wrap(np.arange(3), "items"))


def test_split_files_from_frames_equals_the_files(tmp_path, ml_arrays):
    log = ml_arrays["log"]
    train, test = log.head(60000), log.tail(log.height - 60000)
    train.write_parquet(tmp_path / "train.parquet")
    test.write_parquet(tmp_path / "test.parquet")
    want, n_want = load_split_files(tmp_path / "train.parquet", tmp_path / "test.parquet")
    got, n_got = split_files_from(wrap(train, "train"), wrap(test.lazy(), "test"))
    assert n_got == n_want == 60000
    for name in ("user_ids", "users", "item_ids", "item_codes", "timestamps"):
        assert np.array_equal(getattr(got, name), getattr(want, name)), name
    mixed, _ = split_files_from(tmp_path / "train.parquet", wrap(test, "test"))
    assert np.array_equal(mixed.users, want.users)


# --- nit: errors raised through Study name keywords, not flags -----------------------------


def test_errors_name_keywords(ml_arrays):
    sem, ids = ml_arrays["sem"].copy(), ml_arrays["ids"]
    sem[0] = np.nan
    with pytest.raises(InputError) as caught:
        cm.Study(sem, ml_arrays["cf"], sem_ids=ids, cf_ids=ids).overlap(k=[10])
    assert "drop_invalid=True" in str(caught.value) and "--drop-invalid" not in str(caught.value)
    st = cm.Study(
        ml_arrays["sem"], ml_arrays["cf"], sem_ids=ids, cf_ids=ids, interactions=ml_arrays["log"]
    )
    with pytest.raises(ComplementError) as caught:
        st.hits(k=[10], split="files")
    assert "split='files' needs train=TRAIN_LOG and test=TEST_LOG" in str(caught.value)
    with pytest.raises(UsageError, match=r"^seed=-1: must be at least 0"):
        st.overlap(seed=-1)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("pass --drop-invalid to leave them out", "pass drop_invalid=True to leave them out"),
        ("--no-early-stop trains 400 epochs", "early_stop=False trains 400 epochs"),
        ("--split files needs --train TRAIN_LOG", "split='files' needs train=TRAIN_LOG"),
        ("--metric 'x': choose one of cosine, ip", "metric='x': choose one of cosine, ip"),
        ("or --metric ip", "or metric='ip'"),
        ("--k is empty: give at least one integer", "k is empty: give at least one integer"),
        ("name the right one with --user-col", "name the right one with user_col="),
        ("--n-boot 0: give at least 1", "n_boot=0: give at least 1"),
        ("see 'complement hits --help' and /tmp/a--b.npy", None),
    ],
)
def test_api_message(text, expected):
    assert api_message(text) == (text if expected is None else expected)
