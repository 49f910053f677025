"""Hostile input files: every loader returns a valid result or raises InputError, nothing else.

Hypothesis writes random bytes, random truncations and bit flips of valid files, and valid
containers holding random dtypes into each input kind (.npy / .npz / .parquet embeddings, id
files, CSV / parquet logs, item tables). A loader may refuse any of them, but only with
InputError: never another exception, a traceback, or a pickle load.
"""

from __future__ import annotations

import io
import pickle
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from complement.errors import InputError
from complement.io import load_embeddings, load_ids, load_interactions, load_items

FUZZ = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

_RNG = np.random.default_rng(0)
_MATRIX = _RNG.standard_normal((12, 4)).astype(np.float32)


@contextmanager
def folder() -> Iterator[Path]:
    with tempfile.TemporaryDirectory() as name:
        yield Path(name)


def outcome(load: Callable[[], Any], check: Callable[[Any], None]) -> None:
    """``load()`` either raises InputError or returns something ``check`` accepts."""
    try:
        result = load()
    except InputError as exc:
        message = str(exc)
        assert message and "\n" not in message, message
        return
    check(result)


def valid_embeddings(e: Any) -> None:
    assert e.matrix.ndim == 2 and e.matrix.dtype == np.float32
    assert e.matrix.shape[0] > 0 and e.matrix.shape[1] > 0
    assert e.ids.shape == (e.matrix.shape[0],) and e.ids.dtype.kind == "U"
    assert np.unique(e.ids).shape[0] == e.ids.shape[0] or e.ids_from_rows


def valid_ids(ids: Any) -> None:
    assert ids.ndim == 1 and ids.dtype.kind == "U"


def valid_log(log: Any) -> None:
    assert log.n_rows > 0
    assert log.items.shape == (log.n_rows,) and log.items.dtype.kind == "U"
    assert log.user_ids[log.users].shape == (log.n_rows,)
    if log.timestamps is not None:
        assert log.timestamps.shape == (log.n_rows,) and np.isfinite(log.timestamps).all()


def valid_items(items: Any) -> None:
    assert items.ids.shape == items.titles.shape


# ------------------------------------------------------------------------- valid templates


def npy_bytes(arr: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, arr, allow_pickle=arr.dtype.hasobject)
    return buf.getvalue()


def npz_bytes(compressed: bool, **arrays: np.ndarray) -> bytes:
    buf = io.BytesIO()
    (np.savez_compressed if compressed else np.savez)(buf, **arrays)
    return buf.getvalue()


def parquet_bytes(frame: pl.DataFrame) -> bytes:
    buf = io.BytesIO()
    frame.write_parquet(buf)
    return buf.getvalue()


LOG_CSV = b"user_id,item_id,timestamp\n" + b"".join(
    f"{u},{(u * 7 + j) % 12},{j * 100 + u}\n".encode() for u in range(6) for j in range(4)
)
ITEMS_CSV = b"item_id,title\n" + b"".join(f'{i},"movie {i}, the"\n'.encode() for i in range(12))
TEMPLATES = {
    "npy": npy_bytes(_MATRIX),
    "npz": npz_bytes(False, embeddings=_MATRIX, ids=np.arange(12)),
    "npz-compressed": npz_bytes(True, embeddings=_MATRIX, ids=np.arange(100, 112)),
    "parquet": parquet_bytes(pl.DataFrame({"item_id": np.arange(12), "vec": _MATRIX})),
    "log-parquet": parquet_bytes(pl.read_csv(LOG_CSV)),
    "items-parquet": parquet_bytes(pl.read_csv(ITEMS_CSV)),
}

DTYPES = [
    "<f2", "<f4", ">f4", "<f8", "<i1", "<i8", "<u8", "|b1", "<c8", "<U3", "|S3", "<M8[s]",
    "<m8[s]", "|V4", [("a", "<f4"), ("b", "<i4")], "|O",
]  # fmt: skip


@st.composite
def arrays(draw: st.DrawFn) -> np.ndarray:
    dtype = np.dtype(draw(st.sampled_from(DTYPES)))
    shape = tuple(draw(st.lists(st.integers(0, 5), min_size=0, max_size=3)))
    size = int(np.prod(shape))
    raw = draw(st.binary(min_size=size, max_size=size))
    values = np.frombuffer(raw, dtype=np.uint8).astype(np.int64)
    if dtype.hasobject:
        objects = np.empty(size, dtype=object)
        objects[:] = [{"x": int(v)} for v in values.tolist()]
        return objects.reshape(shape)
    if dtype.kind in "US":
        return np.array([str(v) for v in values.tolist()], dtype=dtype).reshape(shape)
    if dtype.kind == "V":
        return np.zeros(shape, dtype=dtype)
    return values.astype(dtype).reshape(shape)


def damaged(template: str) -> st.SearchStrategy[bytes]:
    """Random bytes, a truncation, a few flipped bytes, or a stretch overwritten by noise."""
    data = TEMPLATES[template]

    @st.composite
    def build(draw: st.DrawFn) -> bytes:
        how = draw(st.sampled_from(["random", "truncate", "flip", "noise"]))
        if how == "random":
            return draw(st.binary(max_size=600))
        if how == "truncate":
            return data[: draw(st.integers(0, len(data) - 1))]
        out = bytearray(data)
        if how == "flip":
            for _ in range(draw(st.integers(1, 4))):
                pos = draw(st.integers(0, len(out) - 1))
                out[pos] ^= draw(st.integers(1, 255))
            return bytes(out)
        start = draw(st.integers(0, len(out) - 1))
        noise = draw(st.binary(min_size=1, max_size=64))
        out[start : start + len(noise)] = noise
        return bytes(out)

    return build()


# ----------------------------------------------------------------------------- embeddings


@FUZZ
@given(data=damaged("npy"))
def test_npy_damaged(data: bytes) -> None:
    with folder() as tmp:
        (tmp / "e.npy").write_bytes(data)
        outcome(lambda: load_embeddings(tmp / "e.npy"), valid_embeddings)
        outcome(lambda: load_ids(tmp / "e.npy"), valid_ids)


@FUZZ
@given(arr=arrays())
def test_npy_any_dtype(arr: np.ndarray) -> None:
    with folder() as tmp:
        (tmp / "e.npy").write_bytes(npy_bytes(arr))
        outcome(lambda: load_embeddings(tmp / "e.npy"), valid_embeddings)
        outcome(lambda: load_ids(tmp / "e.npy"), valid_ids)


@FUZZ
@given(
    shape=st.lists(st.integers(0, 2**62), min_size=0, max_size=4).map(tuple),
    descr=st.sampled_from(["<f4", "<U1000000000", "|V0", "<f8", "bogus", "O", "|u1"]),
    tail=st.integers(0, 256),
)
def test_npy_lying_header(shape: tuple[int, ...], descr: str, tail: int) -> None:
    """A header declaring any shape: refused before allocating unless the file holds it."""
    header = f"{{'descr': {descr!r}, 'fortran_order': False, 'shape': {shape!r}, }}"
    header += " " * (-(len(header) + 11) % 64) + "\n"
    blob = b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header.encode("latin1")
    with folder() as tmp:
        (tmp / "e.npy").write_bytes(blob + b"\x01" * tail)
        outcome(lambda: load_embeddings(tmp / "e.npy"), valid_embeddings)
        outcome(lambda: load_ids(tmp / "e.npy"), valid_ids)


@FUZZ
@given(data=st.one_of(damaged("npz"), damaged("npz-compressed")))
def test_npz_damaged(data: bytes) -> None:
    with folder() as tmp:
        (tmp / "e.npz").write_bytes(data)
        outcome(lambda: load_embeddings(tmp / "e.npz"), valid_embeddings)


@FUZZ
@given(emb=arrays(), ids=st.one_of(st.none(), arrays()), compressed=st.booleans())
def test_npz_any_dtype(emb: np.ndarray, ids: np.ndarray | None, compressed: bool) -> None:
    members = {"embeddings": emb} if ids is None else {"embeddings": emb, "ids": ids}
    with folder() as tmp:
        if emb.dtype.hasobject or (ids is not None and ids.dtype.hasobject):
            with zipfile.ZipFile(tmp / "e.npz", "w") as zf:  # np.savez pickles object arrays
                for name, arr in members.items():
                    zf.writestr(f"{name}.npy", npy_bytes(arr))
        else:
            (tmp / "e.npz").write_bytes(npz_bytes(compressed, **members))
        outcome(lambda: load_embeddings(tmp / "e.npz"), valid_embeddings)


@FUZZ
@given(
    member=st.one_of(
        st.binary(max_size=300),
        st.just(pickle.dumps([[1.0, 2.0]])),
        st.text(max_size=100).map(str.encode),
    ),
    compression=st.sampled_from([zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2]),
)
def test_npz_member_not_npy(member: bytes, compression: int) -> None:
    with folder() as tmp:
        with zipfile.ZipFile(tmp / "e.npz", "w", compression=compression) as zf:
            zf.writestr("embeddings.npy", member)
        outcome(lambda: load_embeddings(tmp / "e.npz"), valid_embeddings)


VECTOR_TYPES = [
    pl.List(pl.Float32), pl.List(pl.Int64), pl.List(pl.String), pl.List(pl.Boolean),
    pl.Array(pl.Float64, 3), pl.List(pl.List(pl.Float32)), pl.String, pl.Float64,
]  # fmt: skip
ID_TYPES = [
    pl.Int64, pl.UInt64, pl.Int8, pl.Float64, pl.String, pl.Binary, pl.Boolean, pl.Categorical,
    pl.List(pl.Int64), pl.Struct({"a": pl.Int64}), pl.Date, pl.Null, pl.Decimal(20, 0),
]  # fmt: skip


@st.composite
def columns(draw: st.DrawFn, n: int, types: list[Any]) -> pl.Series:
    """A column of ``n`` values of a random type, built from random numbers and nulls."""
    dtype = draw(st.sampled_from(types))
    ints = draw(st.lists(st.integers(-(2**40), 2**40), min_size=n, max_size=n))
    nulls = draw(st.booleans())
    values: list[Any]
    if dtype == pl.Binary:
        values = [draw(st.binary(max_size=4)) for _ in range(n)]
    elif dtype == pl.Null:
        values = [None] * n
    elif isinstance(dtype, pl.List | pl.Array):
        width = 3 if isinstance(dtype, pl.Array) else draw(st.integers(0, 3))
        values = [[float(i + k) for k in range(width)] for i in ints]
    elif dtype == pl.Struct({"a": pl.Int64}):
        values = [{"a": i} for i in ints]
    elif dtype == pl.Date:
        values = [None if i is None else abs(i) % 20000 for i in ints]
        return pl.Series("c", values, dtype=pl.Int32).cast(pl.Date)
    else:
        values = [str(i) if dtype in (pl.String, pl.Categorical) else i for i in ints]
    if nulls and n:
        values[draw(st.integers(0, n - 1))] = None
    try:
        return pl.Series("c", values, strict=False).cast(dtype, strict=False)
    except Exception:  # a combination polars cannot build: fall back to the raw values
        return pl.Series("c", values, strict=False)


@FUZZ
@given(data=st.data(), n=st.integers(0, 6))
def test_parquet_any_dtype(data: st.DataObject, n: int) -> None:
    frame = pl.DataFrame(
        {
            "item_id": data.draw(columns(n, ID_TYPES)),
            "vec": data.draw(columns(n, VECTOR_TYPES)),
        }
    )
    with folder() as tmp:
        frame.write_parquet(tmp / "e.parquet")
        outcome(lambda: load_embeddings(tmp / "e.parquet"), valid_embeddings)


@FUZZ
@given(data=damaged("parquet"))
def test_parquet_damaged(data: bytes) -> None:
    with folder() as tmp:
        (tmp / "e.parquet").write_bytes(data)
        outcome(lambda: load_embeddings(tmp / "e.parquet"), valid_embeddings)


# ------------------------------------------------------------------------------- id files


@FUZZ
@given(
    data=st.one_of(
        st.binary(max_size=200),
        st.text(max_size=200).map(lambda t: t.encode("utf-8", "surrogatepass")),
        st.lists(st.integers(-(2**64), 2**65), max_size=12).map(
            lambda xs: "\n".join(map(str, xs)).encode()
        ),
    ),
    name=st.sampled_from(["ids.txt", "ids.npy", "ids.NPY", "ids"]),
)
def test_id_files(data: bytes, name: str) -> None:
    with folder() as tmp:
        (tmp / name).write_bytes(data)
        outcome(lambda: load_ids(tmp / name), valid_ids)
        np.save(tmp / "e.npy", _MATRIX)
        outcome(lambda: load_embeddings(tmp / "e.npy", tmp / name), valid_embeddings)


# ---------------------------------------------------------------------------- logs, items


def csv_text(header: list[str], rows: list[list[str]], quote: bool) -> bytes:
    def cell(v: str) -> str:
        return '"' + v.replace('"', '""') + '"' if quote else v

    lines = [",".join(cell(c) for c in header)] + [",".join(cell(c) for c in r) for r in rows]
    return ("\n".join(lines) + "\n").encode("utf-8", "surrogatepass")


CELLS = st.one_of(
    st.integers(-(2**70), 2**70).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
    st.text(max_size=8),
    st.sampled_from(["", "2020-01-01", "2020-13-45", "true", '"', "1.0", "001"]),
)


@FUZZ
@given(
    data=st.one_of(
        damaged("log-parquet"),
        st.binary(max_size=400),
        st.builds(
            csv_text,
            st.just(["user_id", "item_id", "timestamp"]),
            st.lists(st.lists(CELLS, min_size=2, max_size=4), max_size=6),
            st.booleans(),
        ),
        st.integers(0, len(LOG_CSV)).map(lambda k: LOG_CSV[:k]),
    ),
    name=st.sampled_from(["log.csv", "log.parquet", "log.tsv", "log.inter"]),
)
def test_logs(data: bytes, name: str) -> None:
    with folder() as tmp:
        (tmp / name).write_bytes(data)
        outcome(lambda: load_interactions(tmp / name), valid_log)
        outcome(lambda: load_interactions(tmp / name, time_col=None), valid_log)


LOG_TYPES = ID_TYPES + [pl.Datetime("us"), pl.Duration("us"), pl.Float32]


@FUZZ
@given(data=st.data(), n=st.integers(0, 6))
def test_log_parquet_any_dtype(data: st.DataObject, n: int) -> None:
    frame = pl.DataFrame(
        {
            "user_id": data.draw(columns(n, ID_TYPES)),
            "item_id": data.draw(columns(n, ID_TYPES)),
            "timestamp": data.draw(columns(n, LOG_TYPES)),
        }
    )
    with folder() as tmp:
        frame.write_parquet(tmp / "log.parquet")
        outcome(lambda: load_interactions(tmp / "log.parquet"), valid_log)


@FUZZ
@given(
    data=st.one_of(
        damaged("items-parquet"),
        st.binary(max_size=300),
        st.integers(0, len(ITEMS_CSV)).map(lambda k: ITEMS_CSV[:k]),
    ),
    name=st.sampled_from(["items.csv", "items.parquet", "items.tsv"]),
)
def test_items_damaged(data: bytes, name: str) -> None:
    with folder() as tmp:
        (tmp / name).write_bytes(data)
        outcome(lambda: load_items(tmp / name), valid_items)


@FUZZ
@given(data=st.data(), n=st.integers(0, 6))
def test_items_any_dtype(data: st.DataObject, n: int) -> None:
    frame = pl.DataFrame(
        {
            "item_id": data.draw(columns(n, ID_TYPES)),
            "title": data.draw(columns(n, ID_TYPES + [pl.List(pl.String)])),
        }
    )
    with folder() as tmp:
        frame.write_parquet(tmp / "items.parquet")
        outcome(lambda: load_items(tmp / "items.parquet"), valid_items)
