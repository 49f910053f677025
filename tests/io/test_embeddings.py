"""Loading and validating embeddings: formats, ids, and one test per validation error."""

from __future__ import annotations

import warnings

import numpy as np
import polars as pl
import pytest

from complement.errors import InputError
from complement.io import canonical_ids, join_views, load_embeddings, load_ids


def save(tmp_path, name, arr):
    p = tmp_path / name
    np.save(p, arr)
    return p


def test_npy_npz_parquet_and_ids(tmp_path):
    m = np.arange(12, dtype=np.float32).reshape(4, 3) + 1
    e = load_embeddings(save(tmp_path, "a.npy", m))
    assert e.ids.tolist() == ["0", "1", "2", "3"] and e.matrix.dtype == np.float32
    np.savez(tmp_path / "b.npz", embeddings=m, ids=np.array([10, 11, 12, 13]))
    e = load_embeddings(tmp_path / "b.npz")
    assert e.ids.tolist() == ["10", "11", "12", "13"]
    pl.DataFrame({"item_id": ["x", "y", "z", "w"], "vec": m.tolist()}).write_parquet(
        tmp_path / "c.parquet"
    )
    e = load_embeddings(tmp_path / "c.parquet")
    assert e.ids.tolist() == ["x", "y", "z", "w"]
    np.testing.assert_array_equal(e.matrix, m)
    (tmp_path / "ids.txt").write_text("7\n8\n9\n10\n")
    e = load_embeddings(tmp_path / "a.npy", tmp_path / "ids.txt")
    assert e.ids.tolist() == ["7", "8", "9", "10"]
    assert load_ids(save(tmp_path, "i.npy", np.array([7.0, 8.0]))).tolist() == ["7", "8"]


def test_int_matrix_converted(tmp_path):
    e = load_embeddings(save(tmp_path, "a.npy", np.ones((3, 2), dtype=np.int64)))
    assert e.matrix.dtype == np.float32


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: None, "file not found"),
        (lambda p: np.save(p / "x.npy", np.zeros(5, dtype=np.float32)), "expected a 2-D array"),
        (lambda p: np.save(p / "x.npy", np.zeros((2, 2, 2), dtype=np.float32)), "3-D"),
        (lambda p: np.save(p / "x.npy", np.array([["a", "b"]])), "not numeric"),
        (
            lambda p: np.save(p / "x.npy", np.array([[{"a": 1}]], dtype=object), allow_pickle=True),
            "Python objects",
        ),
        (lambda p: (p / "x.npy").write_bytes(b"\x93NUMPY garbage"), "not a valid .npy"),
        (lambda p: np.save(p / "x.npy", np.zeros((0, 3), dtype=np.float32)), "empty"),
    ],
)
def test_bad_npy(tmp_path, make, message):
    make(tmp_path)
    with pytest.raises(InputError, match=message):
        load_embeddings(tmp_path / "x.npy")


def test_truncated_npy(tmp_path):
    p = save(tmp_path, "x.npy", np.ones((100, 10), dtype=np.float32))
    p.write_bytes(p.read_bytes()[:500])
    with pytest.raises(InputError, match="x.npy"):
        load_embeddings(p)


def test_bad_npz_and_parquet(tmp_path):
    np.savez(tmp_path / "a.npz", vectors=np.ones((2, 2)))
    with pytest.raises(InputError, match="no array named 'embeddings'"):
        load_embeddings(tmp_path / "a.npz")
    (tmp_path / "b.npz").write_bytes(b"PK\x03\x04broken")
    with pytest.raises(InputError, match="not a readable .npz"):
        load_embeddings(tmp_path / "b.npz")
    (tmp_path / "c.parquet").write_bytes(b"PAR1 nope")
    with pytest.raises(InputError, match="not a readable parquet"):
        load_embeddings(tmp_path / "c.parquet")
    (tmp_path / "d.csv").write_text("a,b\n")
    with pytest.raises(InputError, match=r"table is empty \(0 rows\)"):
        load_embeddings(tmp_path / "d.csv")
    (tmp_path / "d.xlsx").write_text("a,b\n")
    with pytest.raises(InputError, match=r"unsupported file type '\.xlsx'.*\.npy, \.npz or"):
        load_embeddings(tmp_path / "d.xlsx")


def test_duplicate_and_miscounted_ids(tmp_path):
    p = save(tmp_path, "a.npy", np.ones((3, 2), dtype=np.float32))
    (tmp_path / "dup.txt").write_text("1\n2\n1\n")
    with pytest.raises(InputError, match="duplicate ids"):
        load_embeddings(p, tmp_path / "dup.txt")
    (tmp_path / "short.txt").write_text("1\n2\n")
    with pytest.raises(InputError, match="2 ids for 3 rows"):
        load_embeddings(p, tmp_path / "short.txt")


def test_join_reports_only_in_one_view_and_refuses_too_few(tmp_path):
    a = np.random.default_rng(0).standard_normal((4, 3)).astype(np.float32)
    np.savez(tmp_path / "s.npz", embeddings=a, ids=np.array([1, 2, 3, 4]))
    np.savez(tmp_path / "c.npz", embeddings=a[:3], ids=np.array([3, 4, 5]))
    v = join_views(load_embeddings(tmp_path / "s.npz"), load_embeddings(tmp_path / "c.npz"))
    assert v.ids.tolist() == ["3", "4"]
    assert (v.only_semantic, v.only_collaborative) == (2, 1)
    np.testing.assert_array_equal(v.sem, a[2:4])
    np.testing.assert_array_equal(v.cf, a[:2])
    np.savez(tmp_path / "d.npz", embeddings=a[:2], ids=np.array([8, 9]))
    with pytest.raises(InputError, match="share 0 item ids"):
        join_views(load_embeddings(tmp_path / "s.npz"), load_embeddings(tmp_path / "d.npz"))


def test_row_counts_differ_without_ids(tmp_path):
    a = load_embeddings(save(tmp_path, "a.npy", np.ones((3, 2), dtype=np.float32)))
    b = load_embeddings(save(tmp_path, "b.npy", np.ones((4, 2), dtype=np.float32)))
    with pytest.raises(InputError, match="neither has ids"):
        join_views(a, b)


def test_nan_inf_zero_rows_and_drop_invalid(tmp_path):
    rng = np.random.default_rng(1)
    s = rng.standard_normal((6, 3)).astype(np.float32)
    c = rng.standard_normal((6, 3)).astype(np.float32)
    s[1, 0] = np.nan
    s[2, 2] = np.inf
    c[4] = 0
    es, ec = (
        load_embeddings(save(tmp_path, "s.npy", s)),
        load_embeddings(save(tmp_path, "c.npy", c)),
    )
    with pytest.raises(InputError, match=r"2 rows \(first ids: 1, 2\) contain NaN or infinite"):
        join_views(es, ec)
    ok_s = load_embeddings(save(tmp_path, "s2.npy", np.nan_to_num(s, posinf=1.0)))
    with pytest.raises(InputError, match=r"1 rows \(first ids: 4\) are all zeros"):
        join_views(ok_s, ec)
    v = join_views(es, ec, drop_invalid=True)
    assert v.ids.tolist() == ["0", "3", "5"]
    assert v.dropped == {
        "semantic_nonfinite": 2,
        "semantic_zero": 0,
        "collaborative_nonfinite": 0,
        "collaborative_zero": 1,
        "total": 3,
    }
    v_ip = join_views(ok_s, ec, metric="ip")  # zero rows are fine for inner products
    assert v_ip.n_items == 6


def test_large_npy_is_memory_mapped(tmp_path, monkeypatch):
    import complement.io.npy as npy

    monkeypatch.setattr(npy, "MMAP_BYTES", 100)
    e = load_embeddings(save(tmp_path, "a.npy", np.ones((50, 4), dtype=np.float32)))
    assert isinstance(e.matrix, np.memmap)


# --- hostile and unusual files: checked before allocating, one clear line each ---


def npy_header(shape, descr="<f4"):
    text = f"{{'descr': {descr!r}, 'fortran_order': False, 'shape': {shape!r}, }}"
    text += " " * (-(len(text) + 11) % 64) + "\n"
    return b"\x93NUMPY\x01\x00" + len(text).to_bytes(2, "little") + text.encode("latin1")


def test_npy_header_larger_than_the_file_is_refused_without_allocating(tmp_path):
    import tracemalloc

    (tmp_path / "x.npy").write_bytes(npy_header((10**12, 384)) + b"\0" * 4096)
    tracemalloc.start()
    try:
        with pytest.raises(InputError, match=r"declares shape \(1000000000000, 384\)") as info:
            load_embeddings(tmp_path / "x.npy")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 50_000_000
    assert "truncated" in str(info.value) and "numpy.save" in str(info.value)
    with pytest.raises(InputError, match="declares shape"):
        load_ids(tmp_path / "x.npy")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"1,2,3\n4,5,6\n", r"not a \.npy file \(it holds text\)"),
        (b"", r"not a readable \.npy array \(the file is empty"),
        (b"\x93NUM", "ends inside the header"),
        (b"\x00\x01\x02\x03\xff", r"not a \.npy file \(it does not start with the \.npy magic"),
    ],
)
def test_npy_content_named_for_what_it_is(tmp_path, data, message):
    (tmp_path / "x.npy").write_bytes(data)
    with pytest.raises(InputError, match=message):
        load_embeddings(tmp_path / "x.npy")


def test_npy_that_is_a_pickle_or_a_zip(tmp_path):
    import pickle

    (tmp_path / "p.npy").write_bytes(pickle.dumps([[1.0, 2.0]]))
    with pytest.raises(InputError, match="Python objects"):
        load_embeddings(tmp_path / "p.npy")
    np.savez(tmp_path / "z.npz", embeddings=np.ones((2, 2)))
    (tmp_path / "z.npz").rename(tmp_path / "z.npy")
    with pytest.raises(InputError, match="zip archive, perhaps an .npz"):
        load_embeddings(tmp_path / "z.npy")


def test_fortran_order_and_big_endian_npy(tmp_path):
    m = np.asfortranarray(np.arange(12, dtype=">f8").reshape(4, 3))
    e = load_embeddings(save(tmp_path, "f.npy", m))
    np.testing.assert_array_equal(e.matrix, m.astype(np.float32))


def zip_member(path, data, compression=None):
    import zipfile

    kind = zipfile.ZIP_DEFLATED if compression is None else compression
    with zipfile.ZipFile(path, "w", compression=kind) as zf:
        zf.writestr("embeddings.npy", data)
    return path


def test_npz_zip_bomb_refused_before_inflating(tmp_path, monkeypatch):
    import complement.io.npz as npz

    monkeypatch.setattr(npz, "NPZ_RATIO_FLOOR", 1 << 20)
    zeros = np.zeros((1024, 1024), dtype=np.float32)  # 4 MiB that deflate to ~4 kB
    np.savez_compressed(tmp_path / "bomb.npz", embeddings=zeros)
    with pytest.raises(InputError, match="likely zip bomb"):
        load_embeddings(tmp_path / "bomb.npz")
    np.savez(tmp_path / "plain.npz", embeddings=zeros + 1)  # stored: nothing to inflate
    assert load_embeddings(tmp_path / "plain.npz").shape == (1024, 1024)


def test_npz_member_header_against_its_size(tmp_path):
    zip_member(tmp_path / "a.npz", npy_header((10**12, 384)) + b"\0" * 64)
    with pytest.raises(InputError, match=r"member 'embeddings'.*declares shape.*truncated"):
        load_embeddings(tmp_path / "a.npz")
    zip_member(tmp_path / "b.npz", npy_header((2, 2)) + b"\0" * 16 + b"\0" * 200_000)
    with pytest.raises(InputError, match="far more than its header"):
        load_embeddings(tmp_path / "b.npz")


def test_npz_members_that_are_not_arrays(tmp_path):
    import pickle

    zip_member(tmp_path / "t.npz", b"hello, world\n")
    with pytest.raises(InputError, match=r"member 'embeddings': not a \.npy file \(it holds text"):
        load_embeddings(tmp_path / "t.npz")
    zip_member(tmp_path / "p.npz", pickle.dumps([1.0]))
    with pytest.raises(InputError, match="Python objects"):
        load_embeddings(tmp_path / "p.npz")


def test_npz_corrupt_deflate_stream_is_one_line(tmp_path):
    import zipfile

    arr = np.random.default_rng(0).standard_normal((200, 8)).astype(np.float32)
    np.savez_compressed(tmp_path / "ok.npz", embeddings=arr)
    with zipfile.ZipFile(tmp_path / "ok.npz") as zf:
        info = zf.getinfo("embeddings.npy")
    data = bytearray((tmp_path / "ok.npz").read_bytes())
    start = info.header_offset + 30 + len(info.filename) + len(info.extra)
    data[start + 200 : start + 260] = b"\xff" * 60
    (tmp_path / "bad.npz").write_bytes(bytes(data))
    with pytest.raises(InputError, match="corrupt") as info_:
        load_embeddings(tmp_path / "bad.npz")
    assert "\n" not in str(info_.value) and "numpy.savez" in str(info_.value)


def test_ids_file_suffix_case_and_content_sniffed(tmp_path):
    m = save(tmp_path, "a.npy", np.ones((3, 2), dtype=np.float32))
    np.save(tmp_path / "ids.npy", np.array([10, 20, 30]))
    (tmp_path / "ids.npy").rename(tmp_path / "ids.NPY")
    assert load_embeddings(m, tmp_path / "ids.NPY").ids.tolist() == ["10", "20", "30"]
    (tmp_path / "ids.NPY").rename(tmp_path / "ids.bin")  # a .npy under another name
    assert load_ids(tmp_path / "ids.bin").tolist() == ["10", "20", "30"]
    (tmp_path / "bom.txt").write_bytes("\ufeff7\n8\n9\n".encode())
    assert load_ids(tmp_path / "bom.txt").tolist() == ["7", "8", "9"]
    (tmp_path / "none.txt").write_text("\n\n")
    with pytest.raises(InputError, match="the file is empty"):
        load_ids(tmp_path / "none.txt")


def test_uint64_ids_above_2_63_are_exact(tmp_path):
    big = np.array([2**63 + 1, 2**64 - 1, 5], dtype=np.uint64)
    m = save(tmp_path, "a.npy", np.ones((3, 2), dtype=np.float32))
    np.save(tmp_path / "ids.npy", big)
    ids = load_embeddings(m, tmp_path / "ids.npy").ids.tolist()
    assert ids == ["9223372036854775809", "18446744073709551615", "5"]
    pl.DataFrame(
        {"item_id": pl.Series(big, dtype=pl.UInt64), "vec": [[1.0], [2.0], [3.0]]}
    ).write_parquet(tmp_path / "u.parquet")
    assert load_embeddings(tmp_path / "u.parquet").ids.tolist() == ids


def test_float_ids_beyond_exact_integers_and_non_utf8_bytes_refused(tmp_path):
    m = save(tmp_path, "a.npy", np.ones((2, 2), dtype=np.float32))
    np.save(tmp_path / "f.npy", np.array([1e20, 2e20]))
    with pytest.raises(InputError, match="above 2\\^53"):
        load_embeddings(m, tmp_path / "f.npy")
    np.save(tmp_path / "b.npy", np.array([b"\xff\xfe", b"ok"]))
    with pytest.raises(InputError, match="not UTF-8 text"):
        load_embeddings(m, tmp_path / "b.npy")


def test_parquet_empty_and_bad_id_columns(tmp_path):
    pl.DataFrame(
        {"item_id": pl.Series([], dtype=pl.Int64), "vec": pl.Series([], dtype=pl.List(pl.Float32))}
    ).write_parquet(tmp_path / "e.parquet")
    with pytest.raises(InputError, match=r"the table is empty \(0 rows\)"):
        load_embeddings(tmp_path / "e.parquet")
    vec = [[1.0, 2.0], [3.0, 4.0]]
    cases = {
        "struct": ([{"a": 1}, {"a": 2}], r"ids have type Struct"),
        "binary": ([b"\xff", b"a"], "not UTF-8 text"),
        "bool": ([True, False], "booleans"),
    }
    for name, (ids, message) in cases.items():
        pl.DataFrame({"item_id": ids, "vec": vec}).write_parquet(tmp_path / f"{name}.parquet")
        with pytest.raises(InputError, match=message):
            load_embeddings(tmp_path / f"{name}.parquet")
    pl.DataFrame({"item_id": ["a", "b"], "vec": [["x", "y"], ["z", "w"]]}).write_parquet(
        tmp_path / "s.parquet"
    )
    with pytest.raises(InputError, match="holds String values, not numbers"):
        load_embeddings(tmp_path / "s.parquet")


def test_parquet_categorical_binary_and_decimal_ids(tmp_path):
    import decimal

    vec = [[1.0, 2.0], [3.0, 4.0]]
    for ids in (
        pl.Series(["7", "8"], dtype=pl.Categorical),
        pl.Series([b"7", b"8"]),
        pl.Series([decimal.Decimal(7), decimal.Decimal(8)]),
    ):
        pl.DataFrame({"item_id": ids, "vec": vec}).write_parquet(tmp_path / "c.parquet")
        assert load_embeddings(tmp_path / "c.parquet").ids.tolist() == ["7", "8"]


def test_npy_with_data_after_the_array_is_refused(tmp_path):
    a = np.ones((4, 3), dtype=np.float32)
    with (tmp_path / "two.npy").open("wb") as fh:
        np.save(fh, a)
        np.save(fh, a * 2)  # a second array the header does not declare
    with pytest.raises(InputError, match="several arrays were saved into one file") as info:
        load_embeddings(tmp_path / "two.npy")
    assert "\n" not in str(info.value)
    with (tmp_path / "ids.npy").open("wb") as fh:
        np.save(fh, np.arange(4))
        fh.write(b"\x00" * 8)
    with pytest.raises(InputError, match=r"of data, but 8 bytes more follow"):
        load_ids(tmp_path / "ids.npy")


def test_float64_values_beyond_float32_are_refused_without_a_warning(tmp_path):
    m = np.random.default_rng(0).standard_normal((5, 3))
    m[3, 1] = 1e39  # finite in float64, infinite in float32
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(InputError) as info:
            load_embeddings(save(tmp_path, "big.npy", m))
    msg = str(info.value)
    assert "1 rows (first: row 3) hold finite values beyond float32's range" in msg, msg
    assert "NaN" not in msg and "1e+39" in msg
    ok = np.random.default_rng(0).standard_normal((5, 3))  # float64 within range: unchanged
    np.testing.assert_array_equal(
        load_embeddings(save(tmp_path, "ok.npy", ok)).matrix, ok.astype(np.float32)
    )


def _join_quietly(sem, cf, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return join_views(sem, cf, **kwargs)


def test_rows_whose_norm_underflows_float32_have_no_cosine(tmp_path):
    rng = np.random.default_rng(2)
    s = rng.standard_normal((6, 8)).astype(np.float32)
    s[2] = (rng.standard_normal(8) * 1e-42).astype(np.float32)  # denormal, norm ~3e-42
    c = rng.standard_normal((6, 4)).astype(np.float32)
    es = load_embeddings(save(tmp_path, "s.npy", s))
    ec = load_embeddings(save(tmp_path, "c.npy", c))
    assert np.any(es.matrix[2] != 0)  # not all zeros: the old check let it through
    with pytest.raises(InputError) as info:
        _join_quietly(es, ec)
    msg = str(info.value)
    assert "1 rows (first ids: 2) have a norm below 2.9e-39" in msg, msg
    assert "--drop-invalid" in msg
    v = _join_quietly(es, ec, drop_invalid=True)
    assert v.ids.tolist() == ["0", "1", "3", "4", "5"]
    assert v.dropped["semantic_zero"] == 1 and v.dropped["total"] == 1
    assert _join_quietly(es, ec, metric="ip").n_items == 6  # inner products need no norm


def test_inner_products_that_overflow_float32_are_refused(tmp_path):
    rng = np.random.default_rng(3)
    s = rng.standard_normal((6, 8)).astype(np.float32)
    c = (rng.standard_normal((6, 4)) * 1e30).astype(np.float32)
    es = load_embeddings(save(tmp_path, "s.npy", s))
    ec = load_embeddings(save(tmp_path, "c.npy", c))
    for drop in (False, True):  # a scale, not a bad row: never dropped
        with pytest.raises(InputError) as info:
            _join_quietly(es, ec, metric="ip", drop_invalid=drop)
        msg = str(info.value)
        assert "have a norm above 1.8e+19" in msg and "overflow float32 under --metric ip" in msg
    v = _join_quietly(es, ec)  # cosine normalises them: fine
    assert v.n_items == 6 and v.dropped["total"] == 0


def test_exact_integer_float_ids_by_float_width(tmp_path):
    m = save(tmp_path, "a.npy", np.ones((3, 2), dtype=np.float32))
    np.save(tmp_path / "f32.npy", (np.arange(3) * 1e6 + 16777217).astype(np.float32))
    with pytest.raises(InputError, match=r"ids are float32 values above 2\^24"):
        load_embeddings(m, tmp_path / "f32.npy")
    np.save(tmp_path / "f16.npy", np.array([1, 2, 4000], dtype=np.float16))
    with pytest.raises(InputError, match=r"float16 values above 2\^11"):
        load_embeddings(m, tmp_path / "f16.npy")
    np.save(tmp_path / "ok32.npy", np.array([1, 2, 2**24], dtype=np.float32))
    assert load_embeddings(m, tmp_path / "ok32.npy").ids.tolist() == ["1", "2", "16777216"]
    pl.DataFrame(
        {"item_id": pl.Series([1.0, 2.0, 2.0**25], dtype=pl.Float32), "vec": [[1.0]] * 3}
    ).write_parquet(tmp_path / "f32.parquet")
    with pytest.raises(InputError, match=r"float32 values above 2\^24"):
        load_embeddings(tmp_path / "f32.parquet")


def test_empty_ids_refused_in_every_format(tmp_path):
    m = np.ones((3, 2), dtype=np.float32)
    a = save(tmp_path, "a.npy", m)
    np.save(tmp_path / "ids.npy", np.array(["7", "", "9"]))
    with pytest.raises(InputError, match=r"1 ids are empty text \(first at row 1\)"):
        load_embeddings(a, tmp_path / "ids.npy")
    np.save(tmp_path / "blank.npy", np.array([b"7", b"  ", b"9"]))
    with pytest.raises(InputError, match="empty text"):
        load_embeddings(a, tmp_path / "blank.npy")
    np.savez(tmp_path / "e.npz", embeddings=m, ids=np.array(["", "x", "y"]))
    with pytest.raises(InputError, match="empty text"):
        load_embeddings(tmp_path / "e.npz")
    pl.DataFrame({"item_id": ["a", " ", "c"], "vec": m.tolist()}).write_parquet(
        tmp_path / "e.parquet"
    )
    with pytest.raises(InputError, match="id column 'item_id' has 1 empty ids"):
        load_embeddings(tmp_path / "e.parquet")
    (tmp_path / "ids.txt").write_text("7\n\n9\n")
    with pytest.raises(InputError, match="line 2 is empty"):
        load_embeddings(a, tmp_path / "ids.txt")


def test_object_arrays_of_text_or_integers_are_ids():
    text = np.array(["a", "b", " c "], dtype=object)
    assert canonical_ids(text, "ids").tolist() == ["a", "b", "c"]
    ints = np.array([7, np.int64(8), 2**70], dtype=object)
    assert canonical_ids(ints, "ids").tolist() == ["7", "8", str(2**70)]
    with pytest.raises(InputError, match="ids mix text and integers"):
        canonical_ids(np.array(["a", 1], dtype=object), "ids")
    with pytest.raises(InputError, match="Python objects of types"):
        canonical_ids(np.array([1.5, None], dtype=object), "ids")
    with pytest.raises(InputError, match="empty text"):
        canonical_ids(np.array(["a", ""], dtype=object), "ids")
    with pytest.raises(InputError, match="Python objects of types bool, int"):
        canonical_ids(np.array([True, 1], dtype=object), "ids")


def test_api_ids_as_a_pandas_series_of_text():
    pd = pytest.importorskip("pandas")
    from complement.io.loaders import embeddings_from
    from complement.io.sources import InMemory

    m = np.ones((3, 2), dtype=np.float32)
    e = embeddings_from(InMemory(m, "sem"), InMemory(pd.Series(["a", "b", "c"]), "ids"), role="s")
    assert e.ids.tolist() == ["a", "b", "c"] and not e.positional_ids
    e = embeddings_from(InMemory(m, "sem"), InMemory(pd.Series([7, 8, 9], dtype=object), "i"),
                        role="s")  # fmt: skip
    assert e.ids.tolist() == ["7", "8", "9"]
