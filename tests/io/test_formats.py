"""The embedding formats beyond .npy: each reads the same matrix and ids, hostile files refused.

.safetensors (parsed by complement itself), torch ``.pt``/``.pth`` (weights_only), parquet with
one column per dimension, CSV/TSV, and the key / --vector-cols options that choose the vectors.
"""

from __future__ import annotations

import json
import pickle
import tempfile
from pathlib import Path

import numpy as np
import polars as pl
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from complement.errors import InputError
from complement.io import load_embeddings
from complement.io.fingerprint import file_shape
from complement.io.loaders import embeddings_from
from complement.io.sources import InMemory

RNG = np.random.default_rng(7)
MATRIX = RNG.standard_normal((6, 4)).astype(np.float32)
IDS = np.array([10, 11, 12, 13, 14, 15], dtype=np.int64)
IDS_TEXT = IDS.astype(str)

_CODES = {
    np.dtype(np.float16): "F16",
    np.dtype(np.float32): "F32",
    np.dtype(np.float64): "F64",
    np.dtype(np.int8): "I8",
    np.dtype(np.int32): "I32",
    np.dtype(np.int64): "I64",
    np.dtype(np.uint8): "U8",
    np.dtype(np.uint64): "U64",
}


def safetensors_bytes(tensors: dict[str, np.ndarray], codes: dict[str, str] | None = None) -> bytes:
    """A .safetensors file as the format defines it (``codes`` overrides a tensor's dtype)."""
    header: dict[str, object] = {"__metadata__": {"format": "np"}}
    blobs, offset = [], 0
    for name, arr in tensors.items():
        data = np.ascontiguousarray(arr, dtype=arr.dtype.newbyteorder("<")).tobytes()
        code = (codes or {}).get(name) or _CODES[arr.dtype]
        header[name] = {
            "dtype": code,
            "shape": list(arr.shape),
            "data_offsets": [offset, offset + len(data)],
        }
        blobs.append(data)
        offset += len(data)
    raw = json.dumps(header).encode()
    raw += b" " * (-len(raw) % 8)
    return len(raw).to_bytes(8, "little") + raw + b"".join(blobs)


def write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def raw_header(header: dict[str, object], data: bytes = b"", length: int | None = None) -> bytes:
    raw = json.dumps(header).encode()
    return (len(raw) if length is None else length).to_bytes(8, "little") + raw + data


def same(e, matrix=MATRIX, ids=IDS_TEXT) -> None:
    np.testing.assert_array_equal(np.asarray(e.matrix), matrix)
    np.testing.assert_array_equal(e.ids, ids)
    assert e.matrix.dtype == np.float32 and not e.positional_ids


def refused(path: Path, match: str, **kwargs) -> str:
    with pytest.raises(InputError, match=match) as info:
        load_embeddings(path, **kwargs)
    message = str(info.value)
    assert "\n" not in message and "\r" not in message
    return message


# --- every format round-trips to the .npy's matrix and ids -------------------------------------


def test_npy_baseline(tmp_path):
    np.save(tmp_path / "m.npy", MATRIX)
    np.save(tmp_path / "ids.npy", IDS)
    same(load_embeddings(tmp_path / "m.npy", tmp_path / "ids.npy"))


def test_safetensors_round_trip(tmp_path):
    p = write(tmp_path / "a.safetensors", safetensors_bytes({"embeddings": MATRIX, "ids": IDS}))
    same(load_embeddings(p))
    # the only 2-D tensor, whatever its name; ids from a file
    p = write(tmp_path / "b.safetensors", safetensors_bytes({"weight": MATRIX}))
    np.save(tmp_path / "ids.npy", IDS)
    same(load_embeddings(p, tmp_path / "ids.npy"))
    e = load_embeddings(p)
    assert e.positional_ids and e.ids.tolist() == [str(i) for i in range(6)]
    # a key chooses among several 2-D tensors; an ids file replaces the ids tensor
    both = {"sem": MATRIX, "cf": MATRIX[:, :2] * 2, "ids": IDS}
    p = write(tmp_path / "c.safetensors", safetensors_bytes(both))
    same(load_embeddings(p, key="sem"))
    same(load_embeddings(p, role="collaborative", key="cf"), matrix=MATRIX[:, :2] * 2)
    (tmp_path / "other.txt").write_text("\n".join("abcdef"))
    assert load_embeddings(p, tmp_path / "other.txt", key="sem").ids.tolist() == list("abcdef")


@pytest.mark.parametrize("dtype", [np.float16, np.float64, np.int32, np.uint8])
def test_safetensors_dtypes(tmp_path, dtype):
    m = (MATRIX * 10).astype(dtype)
    p = write(tmp_path / "a.safetensors", safetensors_bytes({"embeddings": m, "ids": IDS}))
    same(load_embeddings(p), matrix=m.astype(np.float32))


def test_safetensors_bf16_widened_to_float32(tmp_path):
    bits = torch.from_numpy(MATRIX).to(torch.bfloat16).view(torch.int16).numpy().view(np.uint16)
    p = tmp_path / "bf.safetensors"
    p.write_bytes(safetensors_bytes({"embeddings": bits}, {"embeddings": "BF16"}))
    e = load_embeddings(p)
    expected = torch.from_numpy(MATRIX).to(torch.bfloat16).to(torch.float32).numpy()
    np.testing.assert_array_equal(e.matrix, expected)
    assert e.matrix.dtype == np.float32


def test_large_safetensors_is_memory_mapped(tmp_path, monkeypatch):
    import complement.io.npy as npy

    monkeypatch.setattr(npy, "MMAP_BYTES", 100)
    p = write(tmp_path / "a.safetensors", safetensors_bytes({"embeddings": MATRIX, "ids": IDS}))
    e = load_embeddings(p)
    assert isinstance(e.matrix, np.memmap)
    same(e)


def test_pt_round_trip(tmp_path):
    t = torch.from_numpy(MATRIX.copy())
    torch.save({"weight": t, "ids": torch.from_numpy(IDS)}, tmp_path / "a.pt")
    same(load_embeddings(tmp_path / "a.pt"))
    torch.save(t, tmp_path / "b.pth")  # a bare tensor: ids from a file
    np.save(tmp_path / "ids.npy", IDS)
    same(load_embeddings(tmp_path / "b.pth", tmp_path / "ids.npy"))
    state = {"model.item.weight": t, "model.user.weight": t[:3], "ids": torch.from_numpy(IDS)}
    torch.save(state, tmp_path / "c.pt")
    same(load_embeddings(tmp_path / "c.pt", key="model.item.weight"))
    torch.save({"embeddings": t, "ids": IDS.astype(str).tolist(), "epoch": 3}, tmp_path / "d.pt")
    same(load_embeddings(tmp_path / "d.pt"))
    torch.save(
        {"embeddings": t.to(torch.bfloat16), "ids": torch.from_numpy(IDS)}, tmp_path / "e.pt"
    )
    e = load_embeddings(tmp_path / "e.pt")
    np.testing.assert_array_equal(e.matrix, t.to(torch.bfloat16).float().numpy())
    torch.save(t, tmp_path / "legacy.pt", _use_new_zipfile_serialization=False)
    same(load_embeddings(tmp_path / "legacy.pt", tmp_path / "ids.npy"))


def test_parquet_one_column_per_dimension(tmp_path):
    names = ["emb_0", "emb_1", "emb_10", "emb_2"]  # read in the file's order, not sorted
    frame = pl.DataFrame({"title": list("abcdef"), "item_id": IDS})
    frame = frame.with_columns(pl.Series(n, MATRIX[:, j]) for j, n in enumerate(names))
    frame.write_parquet(tmp_path / "cols.parquet")
    same(load_embeddings(tmp_path / "cols.parquet", vector_cols="emb_*"))
    # a list-column file ignores a --vector-cols that matches none of its columns
    listed = pl.DataFrame({"item_id": IDS, "vec": MATRIX})
    listed.write_parquet(tmp_path / "list.parquet")
    same(load_embeddings(tmp_path / "list.parquet", vector_cols="emb_*"))


def test_parquet_columns_refused_one_line(tmp_path):
    frame = pl.DataFrame({"item_id": IDS, "emb_0": MATRIX[:, 0], "emb_x": list("abcdef")})
    frame.write_parquet(tmp_path / "text.parquet")
    refused(tmp_path / "text.parquet", r"column 'emb_x' holds String values, not numbers",
            vector_cols="emb_*")  # fmt: skip
    nulls = pl.DataFrame({"item_id": IDS, "emb_0": [1.0, None, 2.0, 3.0, 4.0, 5.0]})
    nulls.write_parquet(tmp_path / "nulls.parquet")
    refused(tmp_path / "nulls.parquet", r"'emb_0' has 1 empty values", vector_cols="emb_*")
    plain = pl.DataFrame({"item_id": IDS, "d0": MATRIX[:, 0]})
    plain.write_parquet(tmp_path / "plain.parquet")
    refused(tmp_path / "plain.parquet", r"no column matches --vector-cols 'emb_\*'",
            vector_cols="emb_*")  # fmt: skip
    refused(tmp_path / "plain.parquet", r"found 0 \(none\).*--vector-cols")
    only = pl.DataFrame({"emb_0": MATRIX[:, 0]})
    only.write_parquet(tmp_path / "only.parquet")
    refused(tmp_path / "only.parquet", "no id column", vector_cols="emb_*")


def test_csv_and_tsv(tmp_path):
    frame = pl.DataFrame({"item_id": IDS}).with_columns(
        pl.Series(f"d{j}", MATRIX[:, j].astype(np.float64)) for j in range(4)
    )
    frame.write_csv(tmp_path / "v.csv")
    e = load_embeddings(tmp_path / "v.csv")
    np.testing.assert_allclose(e.matrix, MATRIX, rtol=1e-6)
    np.testing.assert_array_equal(e.ids, IDS_TEXT)
    frame.write_csv(tmp_path / "v.tsv", separator="\t")
    np.testing.assert_allclose(load_embeddings(tmp_path / "v.tsv").matrix, MATRIX, rtol=1e-6)
    wide = frame.with_columns(pl.lit("x").alias("title"), pl.lit(1).alias("pop"))
    wide.write_csv(tmp_path / "w.csv")
    e = load_embeddings(tmp_path / "w.csv", vector_cols="d*")
    np.testing.assert_allclose(e.matrix, MATRIX, rtol=1e-6)
    refused(
        tmp_path / "w.csv", r"column 'title' holds 6 values that are not numbers.*--vector-cols"
    )


def test_csv_refused_one_line(tmp_path):
    (tmp_path / "bad.csv").write_text("item_id,d0,d1\n1,0.5,0.25\n2,0.5,oops\n3,1,2\n")
    refused(tmp_path / "bad.csv", r"column 'd1' holds 1 values that are not numbers \(first on "
            r"data row 2\); fix or remove those rows")  # fmt: skip
    (tmp_path / "noheader.csv").write_text("1,0.5,0.25\n2,0.5,0.75\n")
    refused(tmp_path / "noheader.csv", "first line holds numbers, not column names")
    (tmp_path / "idonly.csv").write_text("item_id\n1\n2\n")
    refused(tmp_path / "idonly.csv", "holds only the id column")
    (tmp_path / "empty.csv").write_text("")
    refused(tmp_path / "empty.csv", r"not a readable CSV table")
    (tmp_path / "gap.csv").write_text("item_id,d0,d1\n1,0.5,\n2,0.5,1\n")
    refused(tmp_path / "gap.csv", r"'d1' has 1 empty values")
    (tmp_path / "dups.csv").write_text("item_id,d0\n1,0.5\n1,0.25\n")
    refused(tmp_path / "dups.csv", "duplicate ids")
    (tmp_path / "v.csv").write_text("item_id,d0\n1,0.5\n")
    refused(tmp_path / "v.csv", r"no column matches --vector-cols 'emb_\*' \(columns: 'item_id'",
            vector_cols="emb_*")  # fmt: skip


# --- keys and the choice of the vectors ---------------------------------------------------------


def test_key_choice_and_refusals(tmp_path):
    two = {"a": MATRIX, "b": MATRIX[:, :2], "ids": IDS}
    p = write(tmp_path / "two.safetensors", safetensors_bytes(two))
    refused(p, r"holds 2 2-D tensors \('a', 'b'\) and none is named 'embeddings'; name the "
            "vectors with --sem-key")  # fmt: skip
    refused(p, "name the vectors with --cf-key", role="collaborative")
    refused(p, "name the vectors' tensor 'embeddings'", role="semantic users")
    refused(p, r"no tensor named 'c' \(found: 'a', 'b', 'ids'\); name one of them with --sem-key",
            key="c")  # fmt: skip
    flat = write(tmp_path / "flat.safetensors", safetensors_bytes({"v": MATRIX[0]}))
    refused(flat, r"holds no 2-D tensor \(found: 'v'\)")
    np.save(tmp_path / "m.npy", MATRIX)
    refused(tmp_path / "m.npy", r"--sem-key 'x' names a tensor .* drop --sem-key", key="x")
    np.savez(tmp_path / "k.npz", vectors=MATRIX, ids=IDS)
    same(load_embeddings(tmp_path / "k.npz", key="vectors"))
    refused(tmp_path / "k.npz", r"no array named 'nope' \(found: ids, vectors\); name one of them "
            "with --sem-key", key="nope")  # fmt: skip
    refused(tmp_path / "k.npz", "no array named 'embeddings'")  # unchanged without a key


def test_pt_refusals(tmp_path):
    t = torch.from_numpy(MATRIX.copy())
    torch.save(t, tmp_path / "bare.pt")
    refused(tmp_path / "bare.pt", r"holds one tensor, not a mapping .* drop --sem-key", key="w")
    torch.save([t, t], tmp_path / "list.pt")
    refused(tmp_path / "list.pt", "holds a list, not a tensor or a mapping")
    torch.save({"embeddings": t, "ids": torch.ones(6)}, tmp_path / "fids.pt")
    refused(tmp_path / "fids.pt", r"'ids' holds shape \(6,\) of torch.float32, not a 1-D integer "
            "tensor.*--sem-ids")  # fmt: skip
    np.save(tmp_path / "ids.npy", IDS)  # an ids file replaces them, unread
    same(load_embeddings(tmp_path / "fids.pt", tmp_path / "ids.npy"))
    torch.save({"embeddings": t, "epoch": 3}, tmp_path / "epoch.pt")
    refused(tmp_path / "epoch.pt", "'epoch' holds a int, not a tensor", key="epoch")
    torch.save({"embeddings": t.to_sparse()}, tmp_path / "sparse.pt")
    refused(tmp_path / "sparse.pt", "is sparse; save a dense one")
    data = (tmp_path / "bare.pt").read_bytes()
    write(tmp_path / "cut.pt", data[: len(data) // 2])
    refused(tmp_path / "cut.pt", r"not a readable \.pt file")
    write(tmp_path / "text.pt", b"1,2,3\n4,5,6\n")
    refused(tmp_path / "text.pt", r"not a \.pt file \(it holds text\)")
    write(tmp_path / "empty.pt", b"")
    refused(tmp_path / "empty.pt", "the file is empty")


class Custom:
    """Anything torch.load(weights_only=True) must not build."""

    def __init__(self) -> None:
        self.weight = torch.ones(2, 2)


def test_pt_with_objects_is_a_pickle(tmp_path):
    torch.save({"embeddings": torch.ones(3, 2), "model": Custom()}, tmp_path / "obj.pt")
    message = refused(tmp_path / "obj.pt", r"Python objects \(a pickle\).*never loads")
    assert "numpy.save" in message
    torch.save(Custom(), tmp_path / "legacy.pt", _use_new_zipfile_serialization=False)
    refused(tmp_path / "legacy.pt", r"Python objects \(a pickle\)")
    write(tmp_path / "plain.pth", pickle.dumps({"embeddings": [[1.0, 2.0]]}))
    refused(tmp_path / "plain.pth", r"Python objects \(a pickle\)")


def test_pt_zip_bomb_refused_before_loading(tmp_path, monkeypatch):
    import zipfile

    import complement.io.npz as npz

    monkeypatch.setattr(npz, "NPZ_RATIO_FLOOR", 1 << 20)
    torch.save({"embeddings": torch.zeros(1024, 1024)}, tmp_path / "z.pt")
    with (
        zipfile.ZipFile(tmp_path / "z.pt") as src,
        zipfile.ZipFile(tmp_path / "bomb.pt", "w", compression=zipfile.ZIP_DEFLATED) as dst,
    ):
        for info in src.infolist():
            dst.writestr(info.filename, src.read(info))
    refused(tmp_path / "bomb.pt", "likely zip bomb")


# --- hostile .safetensors headers: refused before allocating, one line each -------------------


def test_safetensors_hostile_headers(tmp_path):
    import tracemalloc

    entry = {"dtype": "F32", "shape": [6, 4], "data_offsets": [0, 96]}
    data = MATRIX.tobytes()
    cases = [
        (raw_header({"e": entry}, data, length=2**63), r"header claims 9223372036854775808 bytes"),
        (raw_header({"e": entry}, data, length=10**6), r"more than the .* that follow"),
        (raw_header({"e": entry}, data[:50]), r"lies at bytes 0\.\.96 of the data, but only 50"),
        (
            raw_header({"e": {**entry, "shape": [10**12, 384]}}, data),
            r"declares shape \(1000000000000, 384\) of F32, .* but spans 96 bytes",
        ),
        (raw_header({"e": {**entry, "dtype": "F16"}}, data), r"of F16, 48 bytes, but spans 96"),
        (raw_header({"e": {**entry, "dtype": "Q4"}}, data), r"dtype Q4, which complement does not"),
        (
            raw_header({"e": {**entry, "data_offsets": [96, 0]}}, data),
            r"garbled header entry 'e'",
        ),
        (raw_header({"e": {**entry, "shape": [6, -4]}}, data), "garbled header entry"),
        (raw_header({"e": {**entry, "extra": 1}}, data), "garbled header entry"),
        (b"\x05\x00\x00\x00\x00\x00\x00\x00[1,2]" + data, "garbled header"),
        (b"\x05\x00\x00\x00\x00\x00\x00\x00{1:2}" + data, "its header is not JSON"),
        (b"\x05\x00\x00\x00\x00\x00\x00\x00\xff\xfe{}x" + data, "its header is not JSON"),
        (b"\x01\x00", r"fewer than the 8 of its header length"),
        (b"item_id,d0\n1,0.5\n", r"not a \.safetensors file \(it holds text\)"),
        (pickle.dumps([[1.0]]), r"Python objects \(a pickle\)"),
    ]
    tracemalloc.start()
    try:
        for i, (blob, message) in enumerate(cases):
            refused(write(tmp_path / f"h{i}.safetensors", blob), message)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 50_000_000
    both = {"embeddings": MATRIX, "ids": IDS.astype(np.float32)}
    p = write(tmp_path / "fids.safetensors", safetensors_bytes(both, {"ids": "F32"}))
    refused(p, r"tensor 'ids' has shape \(6,\) of F32, not a 1-D integer tensor.*--sem-ids")
    mask = {"embeddings": MATRIX, "mask": np.ones(6, dtype=np.uint8)}  # BOOL beside: fine
    p = write(tmp_path / "mask.safetensors", safetensors_bytes(mask, {"mask": "BOOL"}))
    assert load_embeddings(p).shape == (6, 4)
    long = {"x" * 5000: MATRIX, "y": MATRIX}
    p = write(tmp_path / "long.safetensors", safetensors_bytes(long))
    assert len(refused(p, "2-D tensors")) < 400  # long names are cut short


def _valid_safetensors() -> bytes:
    return safetensors_bytes({"embeddings": MATRIX, "ids": IDS})


@st.composite
def damaged_safetensors(draw: st.DrawFn) -> bytes:
    blob = bytearray(_valid_safetensors())
    how = draw(st.sampled_from(["truncate", "flip", "random"]))
    if how == "truncate":
        return bytes(blob[: draw(st.integers(0, len(blob) - 1))])
    if how == "flip":
        for _ in range(draw(st.integers(1, 8))):
            i = draw(st.integers(0, len(blob) - 1))
            blob[i] = draw(st.integers(0, 255))
        return bytes(blob)
    return draw(st.binary(max_size=256))


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=damaged_safetensors())
def test_safetensors_damaged(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        p = write(Path(folder) / "e.safetensors", data)
        try:
            e = load_embeddings(p)
        except InputError as exc:
            assert "\n" not in str(exc)
        else:
            assert e.matrix.ndim == 2 and e.matrix.dtype == np.float32
            assert e.ids.shape[0] == e.matrix.shape[0]
        file_shape(p)  # never raises


# --- shapes for the provenance, and the options through the loaders ---------------------------


def test_file_shape_of_new_formats(tmp_path):
    p = write(tmp_path / "a.safetensors", safetensors_bytes({"embeddings": MATRIX, "ids": IDS}))
    assert file_shape(p) == {"embeddings": [6, 4], "ids": [6]}
    torch.save({"embeddings": torch.ones(2, 2)}, tmp_path / "a.pt")
    assert file_shape(tmp_path / "a.pt") is None
    pl.DataFrame({"item_id": IDS, "vec": MATRIX}).write_parquet(tmp_path / "a.parquet")
    assert file_shape(tmp_path / "a.parquet") == [6, 2]
    (tmp_path / "bad.parquet").write_bytes(b"PAR1" + b"\0" * 64 + b"PAR1")
    assert file_shape(tmp_path / "bad.parquet") is None
    write(tmp_path / "bad.safetensors", b"\xff" * 16)
    assert file_shape(tmp_path / "bad.safetensors") is None


def test_embeddings_from_threads_key_and_vector_cols(tmp_path):
    both = {"sem": MATRIX, "cf": MATRIX[:, :2], "ids": IDS}
    p = write(tmp_path / "two.safetensors", safetensors_bytes(both))
    same(embeddings_from(p, None, role="semantic", key="sem"))
    got = embeddings_from(p, InMemory(IDS[::-1].copy(), "cf_ids"), role="collaborative", key="cf")
    np.testing.assert_array_equal(got.ids, IDS_TEXT[::-1])
    frame = pl.DataFrame({"item_id": IDS}).with_columns(
        pl.Series(f"emb_{j}", MATRIX[:, j]) for j in range(4)
    )
    frame.write_parquet(tmp_path / "cols.parquet")
    same(embeddings_from(tmp_path / "cols.parquet", None, role="semantic", vector_cols="emb_*"))


def test_meta_tensor_holds_no_data(tmp_path):
    torch.save({"embeddings": torch.zeros(6, 4, device="meta")}, tmp_path / "m.pt")
    msg = refused(tmp_path / "m.pt", r"tensor 'embeddings' is a meta tensor, which holds a shape "
                  "but no data")  # fmt: skip
    assert "numpy cannot hold" not in msg
    torch.save(torch.zeros(6, 4, device="meta"), tmp_path / "bare.pt")
    refused(tmp_path / "bare.pt", "its tensor is a meta tensor")


def test_text_tables_ignore_blank_lines_at_the_end_only(tmp_path):
    lines = "".join(f"{i},{m[0]!r},{m[1]!r}\n" for i, m in zip(IDS, MATRIX.tolist(), strict=True))
    for end in ("\n", "\n\n", "\r\n\r\n\r\n"):
        (tmp_path / "v.csv").write_text("item_id,d0,d1\n" + lines + end, newline="")
        e = load_embeddings(tmp_path / "v.csv")
        np.testing.assert_array_equal(e.matrix, MATRIX[:, :2])
        np.testing.assert_array_equal(e.ids, IDS_TEXT)
    (tmp_path / "mid.csv").write_text("item_id,d0,d1\n1,0.5,0.25\n\n2,0.5,0.75\n")
    refused(tmp_path / "mid.csv", r"'d0' has 1 empty values")  # a blank line inside is a row
    (tmp_path / "only.csv").write_text("item_id,d0,d1\n\n\n")
    refused(tmp_path / "only.csv", r"the table is empty \(0 rows\)")


def test_text_tables_with_padded_names_and_numbers(tmp_path):
    rows = "".join(f"{i}, {m[0]!r}, {m[1]!r}\n" for i, m in zip(IDS, MATRIX.tolist(), strict=True))
    (tmp_path / "pad.csv").write_text("item_id, d0, d1\n" + rows)
    e = load_embeddings(tmp_path / "pad.csv")
    np.testing.assert_array_equal(e.matrix, MATRIX[:, :2])
    np.testing.assert_array_equal(e.ids, IDS_TEXT)
    same(load_embeddings(tmp_path / "pad.csv", vector_cols="d*"), MATRIX[:, :2])
    (tmp_path / "typo.csv").write_text("item_id, d0\n1, 0.5\n2, oops\n")
    refused(tmp_path / "typo.csv", r"column 'd0' holds 1 values that are not numbers \(first on "
            r"data row 2\)")  # fmt: skip


def test_text_table_with_the_wrong_separator_is_named(tmp_path):
    (tmp_path / "v.tsv").write_text("item_id,d0,d1\n1,0.5,0.25\n2,0.5,0.75\n")
    msg = refused(
        tmp_path / "v.tsv",
        r"its first line has no tab but 2 commas, so the file looks comma-separated while a "
        r"\.tsv file is read as tab-separated; rename it to \.csv",
    )
    assert "item_id" not in msg
    (tmp_path / "v.csv").write_text("item_id;d0;d1\n1;0.5;0.25\n")
    refused(tmp_path / "v.csv", r"no comma but 2 semicolons.*convert it")


def test_float64_tables_beyond_float32_are_refused(tmp_path):
    (tmp_path / "big.csv").write_text("item_id,d0,d1\n1,0.5,0.25\n2,1e39,0.75\n")
    msg = refused(tmp_path / "big.csv", r"1 rows \(first: row 1\) hold finite values beyond "
                  "float32's range")  # fmt: skip
    assert "NaN" not in msg
    pl.DataFrame({"item_id": [1, 2], "vec": [[0.5, 1e39], [1.0, 2.0]]}).write_parquet(
        tmp_path / "big.parquet"
    )
    refused(tmp_path / "big.parquet", r"1 rows \(first: row 0\) hold finite values beyond")
    frame = pl.DataFrame({"item_id": [1, 2], "emb_0": [0.5, -2e39]})
    frame.write_parquet(tmp_path / "cols.parquet")
    refused(tmp_path / "cols.parquet", "beyond float32's range", vector_cols="emb_*")
    inf = pl.DataFrame({"item_id": [1, 2], "vec": [[0.5, float("inf")], [1.0, 2.0]]})
    inf.write_parquet(tmp_path / "inf.parquet")  # infinite values are the join's to refuse
    assert np.isinf(load_embeddings(tmp_path / "inf.parquet").matrix[0, 1])
