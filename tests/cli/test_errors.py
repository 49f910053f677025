"""Every bad input gets one clear line: exit code 2 (3: not comparable), no traceback.

One parametrised case per row of docs/errors.md (``test_table_matches_docs`` keeps the two in
step). Each case builds its bad input in a temporary folder and returns the command line; the
answer must be exactly one non-empty line ``complement: error: ...`` containing every string in
``says`` (the file or option, the problem, the fix).
"""

from __future__ import annotations

import errno
import os
import pathlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pytest

from tests.conftest import REPO

N_ITEMS = 40


@dataclass(frozen=True)
class Case:
    id: str
    build: Callable[[Path, Any], list[Any]]  # (tmp folder, monkeypatch) -> argv
    says: tuple[str, ...]
    code: int = 2


def views(tmp: Path, n: int = N_ITEMS) -> tuple[Path, Path]:
    """A valid pair of views, 40 items each (``n`` for the probe), row i = item i."""
    rng = np.random.default_rng(0)
    np.save(tmp / "sem.npy", rng.standard_normal((n, 8)).astype(np.float32))
    np.save(tmp / "cf.npy", rng.standard_normal((n, 4)).astype(np.float32))
    return tmp / "sem.npy", tmp / "cf.npy"


_SEM = np.random.default_rng(0).standard_normal((N_ITEMS, 8)).astype(np.float32)


def bad_sem(make: Callable[[Path], Path]) -> Callable[[Path, Any], list[Any]]:
    """overlap BAD CF, where ``make`` writes the bad semantic file."""

    def build(tmp: Path, _mp: Any) -> list[Any]:
        _, cf = views(tmp)
        return ["overlap", make(tmp), cf, "--k", "5"]

    return build


def overlap_with(*extra: Any) -> Callable[[Path, Any], list[Any]]:
    """overlap SEM CF plus extra arguments (callables get the tmp folder)."""

    def build(tmp: Path, _mp: Any) -> list[Any]:
        sem, cf = views(tmp)
        args = [e(tmp) if callable(e) else e for e in extra]
        return ["overlap", sem, cf, *args]

    return build


def with_config(text: str, *extra: Any) -> Callable[[Path, Any], list[Any]]:
    def build(tmp: Path, _mp: Any) -> list[Any]:
        sem, cf = views(tmp)
        (tmp / "c.toml").write_text(text)
        return ["overlap", sem, cf, "--config", tmp / "c.toml", *extra]

    return build


def npy(name: str, arr: np.ndarray, **kw: Any) -> Callable[[Path], Path]:
    def make(tmp: Path) -> Path:
        np.save(tmp / name, arr, **kw)
        return tmp / name

    return make


def raw(name: str, data: bytes | Callable[[Path], bytes]) -> Callable[[Path], Path]:
    def make(tmp: Path) -> Path:
        (tmp / name).write_bytes(data(tmp) if callable(data) else data)
        return tmp / name

    return make


def text(name: str, body: str) -> Callable[[Path], Path]:
    def make(tmp: Path) -> Path:
        (tmp / name).write_text(body)
        return tmp / name

    return make


def with_row(value: float, row: int = 3) -> np.ndarray:
    arr = _SEM.copy()
    arr[row] = value
    return arr


def npy_bytes(tmp: Path) -> bytes:
    np.save(tmp / "ok.npy", _SEM)
    return (tmp / "ok.npy").read_bytes()


def npz_bytes(tmp: Path) -> bytes:
    np.savez(tmp / "ok.npz", embeddings=_SEM, ids=np.arange(N_ITEMS))
    return (tmp / "ok.npz").read_bytes()


def parquet_bytes(tmp: Path) -> bytes:
    pl.DataFrame({"item_id": np.arange(N_ITEMS), "vec": _SEM.tolist()}).write_parquet(
        tmp / "ok.parquet"
    )
    return (tmp / "ok.parquet").read_bytes()


def corrupt_footer(data: bytes) -> bytes:
    """Overwrite the parquet footer's metadata (the last bytes before its length and PAR1)."""
    return data[:-48] + b"\xff" * 40 + data[-8:]


def parquet(name: str, frame: dict[str, Any]) -> Callable[[Path], Path]:
    def make(tmp: Path) -> Path:
        pl.DataFrame(frame).write_parquet(tmp / name)
        return tmp / name

    return make


LOG_HEADER = "user_id,item_id,timestamp\n"
LOG_ROWS = "".join(
    f"{u},{(u * 7 + j) % N_ITEMS},{j * 100 + u}\n" for u in range(10) for j in range(6)
)


def log(name: str, body: str) -> Callable[[Path], Path]:
    return text(name, body)


def unreadable(tmp: Path, monkeypatch: Any) -> list[Any]:
    """A file the user may not read: chmod 000, or (as root, where chmod does not stop reads)
    the same refusal from the operating system, simulated for that one path."""
    sem, cf = views(tmp)
    sem.chmod(0)
    if os.geteuid() == 0:
        real_open = pathlib.Path.open

        def refuse(self: Path, *args: Any, **kwargs: Any) -> Any:
            if self == sem:
                raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(self))
            return real_open(self, *args, **kwargs)

        monkeypatch.setattr(pathlib.Path, "open", refuse)
    return ["overlap", sem, cf, "--k", "5"]


def folder_as_file(tmp: Path, _mp: Any) -> list[Any]:
    _, cf = views(tmp)
    (tmp / "vectors").mkdir()
    return ["overlap", tmp / "vectors", cf]


def disk_full(tmp: Path, monkeypatch: Any) -> list[Any]:
    import tempfile

    def full(*_a: Any, **_k: Any) -> Any:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(tempfile, "mkstemp", full)
    sem, cf = views(tmp)
    return ["overlap", sem, cf, "--k", "5", "--json", tmp / "out.json"]


def compare_config(text: str) -> Callable[[Path, Any], list[Any]]:
    """compare --config c.toml (``text``) beside the views sem.npy and cf.npy."""

    def build(tmp: Path, _mp: Any) -> list[Any]:
        views(tmp)
        (tmp / "c.toml").write_text(text)
        return ["compare", "--config", tmp / "c.toml"]

    return build


def config_data(tmp: Path, _mp: Any) -> list[Any]:
    views(tmp)
    (tmp / "c.toml").write_text('[data]\nsemantic = "gone.npy"\ncollaborative = "cf.npy"\n')
    return ["overlap", "--config", tmp / "c.toml"]


def rows_differ(tmp: Path, _mp: Any) -> list[Any]:
    sem, _ = views(tmp)
    np.save(tmp / "short.npy", _SEM[:30, :4])
    return ["overlap", sem, tmp / "short.npy"]


def ids_file(name: str, ids: np.ndarray | str) -> Callable[[Path], Path]:
    if isinstance(ids, str):
        return text(name, ids)
    return npy(name, ids)


def sem_ids(make: Callable[[Path], Path]) -> Callable[[Path, Any], list[Any]]:
    return overlap_with("--k", "5", "--sem-ids", make)


def log_case(make: Callable[[Path], Path], *extra: str) -> Callable[[Path, Any], list[Any]]:
    return overlap_with("--k", "5", "--interactions", make, *extra)


def log_file(tmp: Path, body: str | None = None, name: str = "log.csv") -> Path:
    (tmp / name).write_text(body if body is not None else LOG_HEADER + LOG_ROWS)
    return tmp / name


def zero_cf(tmp: Path) -> Path:
    """The collaborative view of ``views`` with row 3 all zeros."""
    _, cf = views(tmp)
    m = np.load(cf)
    m[3] = 0
    np.save(tmp / "cf_zero.npy", m)
    return tmp / "cf_zero.npy"


def nan_cf(tmp: Path) -> Path:
    """The collaborative view of ``views`` with a NaN in row 3."""
    _, cf = views(tmp)
    m = np.load(cf)
    m[3, 0] = np.nan
    np.save(tmp / "cf_nan.npy", m)
    return tmp / "cf_nan.npy"


def one_view_item(tmp: Path) -> list[Any]:
    """SEM CF --sem-ids --cf-ids where item 0 is in the collaborative view only."""
    sem, cf = views(tmp)
    np.save(tmp / "sem39.npy", np.load(sem)[1:])
    np.save(tmp / "sem_ids.npy", np.arange(1, N_ITEMS))
    np.save(tmp / "cf_ids.npy", np.arange(N_ITEMS))
    return [tmp / "sem39.npy", cf, "--sem-ids", tmp / "sem_ids.npy", "--cf-ids", tmp / "cf_ids.npy"]


def run_with_log(
    command: str, *extra: Any, body: str | None = None, n: int = N_ITEMS
) -> Callable[[Path, Any], list[Any]]:
    """COMMAND SEM CF --interactions LOG (views of ``n`` items, 10 users x 6 items) plus extra."""

    def build(tmp: Path, _mp: Any) -> list[Any]:
        sem, cf = views(tmp, n)
        log_path = log_file(tmp, body)
        args = [e(tmp) if callable(e) else e for e in extra]
        return [command, sem, cf, "--interactions", log_path, "--quiet", *args]

    return build


def timestamps(bad: str) -> str:
    """The log with the timestamp of one row replaced by ``bad``."""
    rows = LOG_ROWS.splitlines()
    u, i, _ = rows[7].split(",")
    rows[7] = f"{u},{i},{bad}"
    return LOG_HEADER + "\n".join(rows) + "\n"


def dated(bad: str) -> str:
    rows = [
        f"{u},{i},2020-0{1 + j % 8}-1{u % 10}"
        for u in range(10)
        for j, i in enumerate(range(u, u + 6))
    ]
    rows[5] = rows[5].rsplit(",", 1)[0] + f",{bad}"
    return LOG_HEADER + "\n".join(rows) + "\n"


def cf_users(arr: np.ndarray, ids: np.ndarray | None = None) -> Callable[[Path], list[Any]]:
    def make(tmp: Path) -> list[Any]:
        np.save(tmp / "users.npy", arr)
        out: list[Any] = ["--cf-users", tmp / "users.npy"]
        if ids is not None:
            np.save(tmp / "user_ids.npy", ids)
            out += ["--cf-users-ids", tmp / "user_ids.npy"]
        return out

    return make


def flat(build: Callable[[Path, Any], list[Any]]) -> Callable[[Path, Any], list[Any]]:
    """Expand list-valued arguments (an option with its value) in place."""

    def run(tmp: Path, mp: Any) -> list[Any]:
        out: list[Any] = []
        for a in build(tmp, mp):
            out += a if isinstance(a, list) else [a]
        return out

    return run


def items_file(tmp: Path) -> Path:
    pl.DataFrame(
        {"item_id": range(N_ITEMS), "title": [f"movie {i}" for i in range(N_ITEMS)]}
    ).write_parquet(tmp / "items.parquet")
    return tmp / "items.parquet"


_REPORTS: dict[str, bytes] = {}


def reports(tmp: Path) -> tuple[Path, Path]:
    """Two small reports of the same views (cosine and ip), built once per test session."""
    if not _REPORTS:
        from typer.testing import CliRunner

        from complement.cli.app import app

        sem, cf = views(tmp)
        for metric in ("cosine", "ip"):
            path = tmp / f"made-{metric}.json"
            args = ["report", str(sem), str(cf), "--k", "5", "--metric", metric, "--quiet"]
            result = CliRunner().invoke(app, [*args, "--json", str(path)])
            assert result.exit_code == 0, result.output
            _REPORTS[metric] = path.read_bytes()
    for metric, data in _REPORTS.items():
        (tmp / f"{metric}.json").write_bytes(data)
    return tmp / "cosine.json", tmp / "ip.json"


def gate_with(rules: str | None = None, *extra: Any) -> Callable[[Path, Any], list[Any]]:
    """gate COSINE.json --baseline COSINE.json [--rules gate.toml] plus extra."""

    def build(tmp: Path, _mp: Any) -> list[Any]:
        current, _ = reports(tmp)
        argv: list[Any] = ["gate", current, "--baseline", current]
        if rules is not None:
            (tmp / "gate.toml").write_text(rules)
            argv += ["--rules", tmp / "gate.toml"]
        return [*argv, *[e(tmp) if callable(e) else e for e in extra]]

    return build


def gate_args(*args: Any) -> Callable[[Path, Any], list[Any]]:
    """gate with arguments computed from the folder (callables get the tmp folder)."""

    def build(tmp: Path, _mp: Any) -> list[Any]:
        reports(tmp)
        return ["gate", *[a(tmp) if callable(a) else a for a in args]]

    return build


# --- builders for the hardened readers, the joins, the outputs and the gate inputs ---


def npy_header(shape: tuple[int, ...], descr: str = "<f4") -> bytes:
    """A version 1.0 .npy header declaring ``shape`` (no data follows)."""
    body = f"{{'descr': {descr!r}, 'fortran_order': False, 'shape': {shape!r}, }}"
    body += " " * (-(len(body) + 11) % 64) + "\n"
    return b"\x93NUMPY\x01\x00" + len(body).to_bytes(2, "little") + body.encode("latin1")


def zipped(name: str, member: bytes, *, deflate: bool = True) -> Callable[[Path], Path]:
    """An .npz whose only member ``embeddings.npy`` holds ``member`` (any bytes)."""
    import zipfile

    def make(tmp: Path) -> Path:
        kind = zipfile.ZIP_DEFLATED if deflate else zipfile.ZIP_STORED
        with zipfile.ZipFile(tmp / name, "w", compression=kind) as zf:
            zf.writestr("embeddings.npy", member)
        return tmp / name

    return make


def patched_zip(name: str, patch: Callable[[bytearray], None]) -> Callable[[Path], Path]:
    """A valid .npz of 40 x 8 float32 (stored), then ``patch`` applied to its bytes."""

    def make(tmp: Path) -> Path:
        np.savez(tmp / "ok.npz", embeddings=_SEM)
        data = bytearray((tmp / "ok.npz").read_bytes())
        patch(data)
        (tmp / name).write_bytes(bytes(data))
        return tmp / name

    return make


def cut_member(name: str) -> Callable[[Path], Path]:
    """A deflated member whose data ends before its header's size; its zip sizes say full."""
    import struct
    import zipfile

    def make(tmp: Path) -> Path:
        head = npy_header((10, 4))
        with zipfile.ZipFile(tmp / name, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            zf.writestr("embeddings.npy", head + b"\0" * 16)
        data = bytearray((tmp / name).read_bytes())
        full = len(head) + 10 * 4 * 4
        struct.pack_into("<I", data, 22, full)  # local header: uncompressed size
        central = data.find(b"PK\x01\x02")
        struct.pack_into("<I", data, central + 24, full)  # central directory: the same
        (tmp / name).write_bytes(bytes(data))
        return tmp / name

    return make


def encrypted(data: bytearray) -> None:
    """Set the 'encrypted' flag of the first member (local header and central directory)."""
    data[6] |= 1
    data[data.find(b"PK\x01\x02") + 8] |= 1


def flip_data_byte(data: bytearray) -> None:
    """Damage one byte of the stored vectors, so the member no longer matches its CRC-32."""
    data[200] ^= 0xFF


def deflate_damaged(tmp: Path) -> bytes:
    import zipfile

    arr = np.random.default_rng(0).standard_normal((200, 8)).astype(np.float32)
    np.savez_compressed(tmp / "ok.npz", embeddings=arr)
    with zipfile.ZipFile(tmp / "ok.npz") as zf:
        info = zf.getinfo("embeddings.npy")
    data = bytearray((tmp / "ok.npz").read_bytes())
    start = info.header_offset + 30 + len(info.filename) + len(info.extra)
    data[start + 200 : start + 260] = b"\xff" * 60
    return bytes(data)


def io_setting(module: str, attribute: str, value: Any) -> Callable[[Any], None]:
    """Set ``complement.io.<module>.<attribute>`` to ``value`` for one case."""

    def apply(monkeypatch: Any) -> None:
        import importlib

        monkeypatch.setattr(importlib.import_module(f"complement.io.{module}"), attribute, value)

    return apply


def less_memory(module: str) -> Callable[[Any], None]:
    """A machine with 1,000 bytes of memory, as ``complement.io.<module>`` sees it."""
    return io_setting(module, "physical_memory", lambda: 1000)


def patched(
    build: Callable[[Path, Any], list[Any]], *patches: Callable[[Any], None]
) -> Callable[[Path, Any], list[Any]]:
    """``build`` after applying each patch to the monkeypatch fixture."""

    def run(tmp: Path, mp: Any) -> list[Any]:
        for apply in patches:
            apply(mp)
        return build(tmp, mp)

    return run


def fifo(name: str) -> Callable[[Path], Path]:
    def make(tmp: Path) -> Path:
        os.mkfifo(tmp / name)
        return tmp / name

    return make


def pickled(name: str) -> Callable[[Path], Path]:
    import pickle

    return raw(name, pickle.dumps([[1.0, 2.0]]))


def npz_as_npy(tmp: Path) -> Path:
    np.savez(tmp / "z.npz", embeddings=_SEM)
    (tmp / "z.npz").rename(tmp / "zip.npy")
    return tmp / "zip.npy"


def sem_parquet(ids: Any, vectors: Any = None, name: str = "sem.parquet"):
    """A semantic parquet file: an ``item_id`` column and a ``vec`` list column."""

    def make(tmp: Path) -> Path:
        vec = _SEM.tolist() if vectors is None else vectors
        frame = pl.DataFrame({"item_id": ids, "vec": vec})
        frame.write_parquet(tmp / name)
        return tmp / name

    return make


def two_views(
    sem_make: Callable[[Path], Path], *extra: Any, cf_name: str = "cf.npy"
) -> Callable[[Path, Any], list[Any]]:
    """overlap SEM CF where ``sem_make`` writes the semantic view; CF is bare 40 x 4 rows."""

    def build(tmp: Path, _mp: Any) -> list[Any]:
        _, cf = views(tmp)
        args = [e(tmp) if callable(e) else e for e in extra]
        return ["overlap", sem_make(tmp), cf, "--k", "5", *args]

    return build


def parquet_log(name: str, frame: dict[str, Any]) -> Callable[[Path], Path]:
    def make(tmp: Path) -> Path:
        pl.DataFrame(frame).write_parquet(tmp / name)
        return tmp / name

    return make


def hits_log(make: Callable[[Path], Path], *extra: Any) -> Callable[[Path, Any], list[Any]]:
    """hits SEM CF --interactions LOG (the log written by ``make``) plus extra."""

    def build(tmp: Path, _mp: Any) -> list[Any]:
        sem, cf = views(tmp)
        return ["hits", sem, cf, "--interactions", make(tmp), "--quiet", "--k", "5", *extra]

    return build


def timestamps_all(value: str) -> str:
    """The log with every timestamp set to ``value``."""
    rows = [row.rsplit(",", 1)[0] + f",{value}" for row in LOG_ROWS.splitlines()]
    return LOG_HEADER + "\n".join(rows) + "\n"


def tied_log() -> str:
    """10 interactions, 8 of them at the earliest time 1."""
    rows = [f"{u},{(u * 3 + j) % N_ITEMS},{1 if n < 8 else 2}"
            for n, (u, j) in enumerate((u, j) for u in range(5) for j in range(2))]  # fmt: skip
    return LOG_HEADER + "\n".join(rows) + "\n"


def explain_items(make: Callable[[Path], Path], *extra: Any) -> Callable[[Path, Any], list[Any]]:
    """explain 3 SEM CF --items ITEMS (written by ``make``) plus extra."""

    def build(tmp: Path, _mp: Any) -> list[Any]:
        return ["explain", "3", *views(tmp), "--items", make(tmp), *extra]

    return build


def proc_link(tmp: Path) -> Path:
    """out.json, a symbolic link to a file in /proc (a kernel file, not a place to write)."""
    (tmp / "out.json").symlink_to("/proc/self/status")
    return tmp / "out.json"


def stream_link(tmp: Path) -> Path:
    """out.json, a symbolic link to /dev/stdout (the rename would replace what stdout is
    redirected to: /proc/self/fd/1 resolves to that file)."""
    (tmp / "out.json").symlink_to("/dev/stdout")
    return tmp / "out.json"


def export_over_input(tmp: Path, _mp: Any) -> list[Any]:
    """align ncn_items.npz CF --method ncn --export DIR, where DIR holds ncn_items.npz, the
    file the export would write."""
    sem, cf = views(tmp)
    np.savez(tmp / "ncn_items.npz", embeddings=np.load(sem), ids=np.arange(N_ITEMS))
    log_path = log_file(tmp)
    args = ["--positional-ids", "--method", "ncn", "--export", tmp]
    return ["align", tmp / "ncn_items.npz", cf, "--interactions", log_path, "--quiet", *args]


def run_dir_over_input(tmp: Path, _mp: Any) -> list[Any]:
    """hits --sem-ids DIR/semantic.run --run-dir DIR: the run file of the semantic view would
    replace the ids file."""
    (tmp / "rd").mkdir()
    (tmp / "rd" / "semantic.run").write_text("".join(f"{i}\n" for i in range(N_ITEMS)))
    (tmp / "cf_ids.txt").write_text("".join(f"{i}\n" for i in range(N_ITEMS)))
    ids = ["--sem-ids", tmp / "rd" / "semantic.run", "--cf-ids", tmp / "cf_ids.txt"]
    return run_with_log("hits", "--k", "5", *ids, "--run-dir", tmp / "rd")(tmp, _mp)


def gate_current(text: str | Callable[[], str]) -> Callable[[Path, Any], list[Any]]:
    """gate NEW.json --baseline COSINE.json where NEW.json holds ``text``."""

    def build(tmp: Path, _mp: Any) -> list[Any]:
        _, _ = reports(tmp)
        (tmp / "new.json").write_text(text() if callable(text) else text)
        return ["gate", tmp / "new.json", "--baseline", tmp / "cosine.json"]

    return build


def nan_overlap() -> str:
    """The cosine report with its headline overlap replaced by a NaN literal (not JSON)."""
    import json

    doc = json.loads(_REPORTS["cosine"])
    doc["overlap"]["k"]["5"]["overlap"] = float("nan")
    return json.dumps(doc)


# --- builders for the float32 range, shifted user ids, separators, headers and dates ---


def bad_cf(make: Callable[[Path], Path], *extra: Any) -> Callable[[Path, Any], list[Any]]:
    """overlap SEM BAD plus extra, where ``make`` writes the bad collaborative file."""

    def build(tmp: Path, _mp: Any) -> list[Any]:
        sem, _ = views(tmp)
        return ["overlap", sem, make(tmp), "--k", "5", *extra]

    return build


def meta_pt(tmp: Path) -> Path:
    """meta.pt: a state dict whose 'embeddings' is a meta tensor (a shape without data)."""
    import torch

    torch.save({"embeddings": torch.zeros(N_ITEMS, 8, device="meta")}, tmp / "meta.pt")
    return tmp / "meta.pt"


def users_from_one() -> str:
    """The log with user ids 1..10, where user vectors without ids number their rows 0..9."""
    rows = [row.split(",", 1) for row in LOG_ROWS.splitlines()]
    return LOG_HEADER + "".join(f"{int(u) + 1},{rest}\n" for u, rest in rows)


def items_from_one() -> str:
    """The log with item ids shifted by one (1..40 where the views' rows are 0..39)."""
    rows = [row.split(",") for row in LOG_ROWS.splitlines()]
    return LOG_HEADER + "".join(f"{u},{int(i) + 1},{t}\n" for u, i, t in rows)


def padded_header() -> str:
    """The log under the header ``user_id, user_id,item_id, timestamp``: stripping the
    spaces would name two columns user_id, so they are kept (and ``timestamp`` is missing)."""
    rows = [row.split(",", 1) for row in LOG_ROWS.splitlines()]
    return "user_id, user_id,item_id, timestamp\n" + "".join(
        f"{u},{u},{rest}\n" for u, rest in rows
    )


def timed(time: Callable[[int, int], str]) -> str:
    """The log with user u's j-th timestamp written as ``time(u, j)``."""
    return LOG_HEADER + "".join(
        f"{u},{(u * 7 + j) % N_ITEMS},{time(u, j)}\n" for u in range(10) for j in range(6)
    )


CASES = [
    # --- files ---
    Case(
        "file-missing",
        bad_sem(lambda tmp: tmp / "missing.npy"),
        ("missing.npy", "file not found", "check the path"),
    ),
    Case("file-unreadable", unreadable, ("sem.npy", "cannot be read", "permissions")),
    Case("file-is-folder", folder_as_file, ("vectors", "is a folder", "give the file's path")),
    Case(
        "inputs-not-given",
        lambda tmp, _mp: ["overlap"],
        ("SEM", "no SEM embeddings given", "complement.toml"),
    ),
    Case(
        "file-unsupported-type",
        bad_sem(text("vectors.txt", "1 2 3\n")),
        ("vectors.txt", "unsupported file type", ".npy, .npz or .parquet"),
    ),
    Case(
        "file-not-regular",
        bad_sem(fifo("pipe.npy")),
        ("pipe.npy", "not a regular file (a pipe, socket or device)", "save the data to a file"),
    ),
    Case(
        "file-name-control-characters",
        bad_sem(lambda tmp: tmp / "esc\x1b[31m\nx.npy"),
        ("esc\\x1b[31m\\nx.npy", "file not found", "check the path"),
    ),
    Case(
        "view-path-colon",
        lambda tmp, _mp: [
            "compare",
            "--view",
            f"a={tmp / 'run_10:31.npy'}",
            "--view",
            f"b={views(tmp)[1]}",
        ],
        ("run_10:31.npy': no file", "read as NAME=PATH:IDS no file", "[views] table of"),
    ),
    Case(
        "view-ids-empty",
        lambda tmp, _mp: [
            "compare",
            "--view",
            f"a={views(tmp)[0]}:",
            "--view",
            f"b={views(tmp)[1]}",
        ],
        ("--view 'a=", "sem.npy:': nothing after ':' (the ids file)", "or drop the ':'"),
    ),
    # --- file contents ---
    Case(
        "npy-pickle",
        bad_sem(npy("obj.npy", np.array([[{"a": 1}]], dtype=object), allow_pickle=True)),
        ("obj.npy", "Python objects", "numpy.save"),
    ),
    Case(
        "npz-pickle",
        bad_sem(
            lambda tmp: (
                np.savez(tmp / "obj.npz", embeddings=np.array([[{"a": 1}]] * 3, dtype=object)),
                tmp / "obj.npz",
            )[1]
        ),
        ("obj.npz", "Python objects", "numpy.save"),
    ),
    Case(
        "npy-truncated",
        bad_sem(raw("cut.npy", lambda tmp: npy_bytes(tmp)[:300])),
        ("cut.npy", "truncated", "re-save it with numpy.save"),
    ),
    Case(
        "npy-trailing-data",
        bad_sem(raw("two.npy", lambda tmp: npy_bytes(tmp) * 2)),
        ("two.npy", "but 1.4 kB more follow: perhaps several arrays", "one array per file"),
    ),
    Case(
        "npy-corrupt-header",
        bad_sem(raw("bad.npy", b"\x93NUMPY\x01\x00garbage that is not a header")),
        ("bad.npy", "not a valid .npy array", "re-save it with numpy.save"),
    ),
    Case(
        "npy-empty-file",
        bad_sem(raw("zero.npy", b"")),
        ("zero.npy", "not a readable .npy array", "re-save it with numpy.save"),
    ),
    Case(
        "npz-truncated",
        bad_sem(raw("cut.npz", lambda tmp: npz_bytes(tmp)[:400])),
        ("cut.npz", "not a readable .npz archive", "numpy.savez"),
    ),
    Case(
        "npz-no-embeddings",
        bad_sem(lambda tmp: (np.savez(tmp / "v.npz", vectors=_SEM), tmp / "v.npz")[1]),
        ("v.npz", "no array named 'embeddings'", "numpy.savez(path, embeddings=..., ids=...)"),
    ),
    Case(
        "parquet-truncated",
        bad_sem(raw("cut.parquet", lambda tmp: parquet_bytes(tmp)[:500])),
        ("cut.parquet", "not a readable parquet file", "re-write it"),
    ),
    Case(
        "parquet-corrupt",
        bad_sem(raw("bad.parquet", lambda tmp: corrupt_footer(parquet_bytes(tmp)))),
        ("bad.parquet", "not a readable parquet file", "re-write it"),
    ),
    Case(
        "parquet-no-vectors",
        bad_sem(parquet("flat.parquet", {"item_id": range(N_ITEMS), "x": range(N_ITEMS)})),
        ("flat.parquet", "exactly one list/array column", "one list column"),
    ),
    Case(
        "parquet-ragged",
        bad_sem(
            parquet(
                "ragged.parquet",
                {"item_id": range(N_ITEMS), "vec": _SEM[:-1].tolist() + [[1.0]]},
            )
        ),
        ("ragged.parquet", "different lengths", "same dimension"),
    ),
    Case(
        "array-1d",
        bad_sem(npy("flat.npy", np.ones(N_ITEMS, dtype=np.float32))),
        ("flat.npy", "expected a 2-D array", "reshape it to (n_items, dim)"),
    ),
    Case(
        "array-3d",
        bad_sem(npy("cube.npy", np.ones((N_ITEMS, 2, 4), dtype=np.float32))),
        ("cube.npy", "got 3-D", "reshape it to (n_items, dim)"),
    ),
    Case(
        "array-strings",
        bad_sem(npy("words.npy", np.array([["a", "b"]] * N_ITEMS))),
        ("words.npy", "is not numeric", "store float32 vectors"),
    ),
    Case(
        "array-empty",
        bad_sem(npy("none.npy", np.zeros((0, 8), dtype=np.float32))),
        ("none.npy", "the array is empty", "save an (n_items, dim) array"),
    ),
    Case(
        "values-nan",
        bad_sem(npy("nan.npy", with_row(np.nan))),
        ("nan.npy", "1 rows (first ids: 3) contain NaN or infinite values", "--drop-invalid"),
    ),
    Case(
        "values-inf",
        bad_sem(npy("inf.npy", with_row(np.inf, row=7))),
        ("inf.npy", "(first ids: 7) contain NaN or infinite values", "--drop-invalid"),
    ),
    Case(
        "rows-all-zero",
        bad_sem(npy("zero.npy", with_row(0.0))),
        ("zero.npy", "are all zeros", "--drop-invalid"),
    ),
    Case(
        "rows-norm-underflow",
        bad_sem(npy("tiny.npy", with_row(1e-42))),
        ("tiny.npy", "(first ids: 3) have a norm below 2.9e-39", "rescale the vectors"),
    ),
    Case(
        "ip-overflow",
        bad_cf(npy("huge.npy", np.full((N_ITEMS, 4), 1e30, np.float32)), "--metric", "ip"),
        ("huge.npy", "inner products overflow float32 under --metric ip", "--metric cosine"),
    ),
    Case(
        "values-beyond-float32",
        bad_sem(npy("big64.npy", np.full((N_ITEMS, 8), 1e39))),
        ("big64.npy", "hold finite values beyond float32's range", "rescale the vectors"),
    ),
    Case(
        "drop-invalid-leaves-nothing",
        lambda tmp, _mp: [
            "overlap",
            npy("nan.npy", np.full((N_ITEMS, 8), np.nan, dtype=np.float32))(tmp),
            views(tmp)[1],
            "--drop-invalid",
        ],
        ("--drop-invalid", "only 0 valid shared items remain", "fix the embeddings"),
    ),
    Case(
        "npy-header-larger-than-file",
        bad_sem(raw("huge.npy", npy_header((10**12, 384)) + b"\0" * 1024)),
        ("huge.npy", "declares shape (1000000000000, 384) of float32", "1536.0 TB", "truncated"),
    ),
    Case(
        "npy-impossible-shape",
        bad_sem(raw("imp.npy", npy_header((0, 2**40, 2**40, 2**40)) + b"\0" * 64)),
        ("imp.npy", "larger than any array can be", "re-save it with numpy.save"),
    ),
    Case(
        "npy-is-text",
        bad_sem(text("text.npy", "1,2,3\n4,5,6\n")),
        ("text.npy", "not a .npy file (it holds text)", "re-save it with numpy.save"),
    ),
    Case(
        "npy-is-zip",
        bad_sem(npz_as_npy),
        ("zip.npy", "it is a zip archive, perhaps an .npz", "give it a .npz name"),
    ),
    Case(
        "npy-is-pickle",
        bad_sem(pickled("p.npy")),
        ("p.npy", "Python objects (a pickle)", "never loads"),
    ),
    Case(
        "npz-zip-bomb",
        patched(
            bad_sem(zipped("bomb.npz", npy_header((1024, 1024)) + b"\0" * 4 * 2**20)),
            io_setting("npz", "NPZ_RATIO_FLOOR", 2**20),
        ),
        ("bomb.npz member 'embeddings'", "likely zip bomb", "numpy.savez (uncompressed)"),
    ),
    Case(
        "npz-too-large-for-memory",
        patched(
            bad_sem(lambda tmp: (np.savez(tmp / "big.npz", embeddings=_SEM), tmp / "big.npz")[1]),
            less_memory("npz"),
        ),
        ("big.npz member 'embeddings'", "more than this machine has", "save it as a .npy file"),
    ),
    Case(
        "npz-member-header-larger-than-member",
        bad_sem(zipped("big.npz", npy_header((10**12, 384)) + b"\0" * 64)),
        ("big.npz member 'embeddings'", "but the member holds only", "re-save it with numpy.savez"),
    ),
    Case(
        "npz-member-larger-than-header",
        bad_sem(zipped("slack.npz", npy_header((2, 2)) + b"\0" * (16 + 200_000))),
        ("slack.npz member 'embeddings'", "far more than its header's shape (2, 2)", "numpy.savez"),
    ),
    Case(
        "npz-member-data-cut",
        bad_sem(cut_member("cut.npz")),
        ("cut.npz member 'embeddings'", "its data ends after 16 bytes of the 160 bytes", "savez"),
    ),
    Case(
        "npz-member-text",
        bad_sem(zipped("text.npz", b"hello, world\n")),
        ("text.npz member 'embeddings'", "not a .npy file (it holds text)", "numpy.savez"),
    ),
    Case(
        "npz-member-pickle",
        bad_sem(zipped("pick.npz", __import__("pickle").dumps([1.0]))),
        ("pick.npz member 'embeddings'", "Python objects (a pickle)", "numpy.save"),
    ),
    Case(
        "npz-member-encrypted",
        bad_sem(patched_zip("x.npz", encrypted)),
        ("x.npz member 'embeddings'", "is encrypted", "(without a password)"),
    ),
    Case(
        "npz-corrupt-deflate",
        bad_sem(raw("corrupt.npz", deflate_damaged)),
        ("corrupt.npz", "compressed data is corrupt", "re-save it with numpy.savez"),
    ),
    Case(
        "npz-corrupt-crc",
        bad_sem(patched_zip("crc.npz", flip_data_byte)),
        ("crc.npz", "the archive is corrupt (Bad CRC-32", "re-save it with numpy.savez"),
    ),
    Case(
        "parquet-empty",
        bad_sem(
            parquet(
                "empty.parquet",
                {
                    "item_id": pl.Series([], dtype=pl.Int64),
                    "vec": pl.Series([], dtype=pl.List(pl.Float32)),
                },
            )
        ),
        ("empty.parquet", "the table is empty (0 rows)", "an id and a vector"),
    ),
    Case(
        "parquet-vectors-text",
        bad_sem(sem_parquet(range(N_ITEMS), [["x", "y"]] * N_ITEMS, "strvec.parquet")),
        ("strvec.parquet", "column 'vec' holds String values, not numbers", "float vectors"),
    ),
    Case(
        "parquet-vectors-empty",
        bad_sem(
            sem_parquet(
                range(N_ITEMS), pl.Series([[]] * N_ITEMS, dtype=pl.List(pl.Float32)), "dim0.parquet"
            )
        ),
        ("dim0.parquet", "are empty (dimension 0)", "store (n_items, dim) vectors"),
    ),
    Case(
        "parquet-ids-nested",
        bad_sem(sem_parquet([{"a": i} for i in range(N_ITEMS)], name="struct.parquet")),
        ("struct.parquet id column 'item_id'", "ids have type Struct", "one integer or text id"),
    ),
    Case(
        "parquet-ids-binary",
        bad_sem(sem_parquet([b"\xff%d" % i for i in range(N_ITEMS)], name="bin.parquet")),
        ("bin.parquet id column 'item_id'", "bytes that are not UTF-8 text", "integers or text"),
    ),
    Case(
        "parquet-ids-blank",
        bad_sem(sem_parquet([""] + [str(i) for i in range(1, N_ITEMS)], name="blank.parquet")),
        ("blank.parquet", "id column 'item_id' has 1 empty ids", "every row needs an id"),
    ),
    Case(
        "parquet-too-large-for-memory",
        patched(bad_sem(sem_parquet(range(N_ITEMS), name="x.parquet")), less_memory("parquet")),
        ("x.parquet", "of data, more than this machine's memory", "split the file"),
    ),
    Case(
        "pt-meta-tensor",
        bad_sem(meta_pt),
        ("meta.pt", "tensor 'embeddings' is a meta tensor", "once it holds its values"),
    ),
    # --- ids ---
    Case(
        "rows-differ-without-ids",
        rows_differ,
        ("short.npy", "has 30 rows", "--sem-ids / --cf-ids"),
    ),
    Case(
        "ids-duplicate",
        sem_ids(ids_file("dup.npy", np.r_[np.arange(N_ITEMS - 1), 0])),
        ("dup.npy", "1 duplicate ids (first: 0)", "ids must be unique"),
    ),
    Case(
        "ids-control-characters",
        sem_ids(
            ids_file("esc.npy", np.array(["\x1b]0;pwned\x07"] * 2 + [str(i) for i in range(38)]))
        ),
        ("esc.npy", "1 duplicate ids (first: \\x1b]0;pwned\\x07)", "ids must be unique"),
    ),
    Case(
        "ids-too-few",
        sem_ids(ids_file("few.txt", "".join(f"{i}\n" for i in range(N_ITEMS - 1)))),
        ("few.txt", f"{N_ITEMS - 1} ids for {N_ITEMS} rows", "exactly one id per row"),
    ),
    Case(
        "ids-none-shared",
        sem_ids(ids_file("far.npy", np.arange(1000, 1000 + N_ITEMS))),
        ("sem.npy", "share 0 item ids", "--sem-ids / --cf-ids"),
    ),
    Case(
        "ids-non-integer-floats",
        sem_ids(ids_file("float.npy", np.linspace(0.5, 1.5, N_ITEMS))),
        ("float.npy", "non-integer floats", "store ids as integers or text"),
    ),
    Case(
        "ids-empty-line",
        sem_ids(ids_file("gap.txt", "0\n1\n\n3\n")),
        ("gap.txt", "line 3 is empty", "every line must hold one id"),
    ),
    Case(
        "ids-empty-text",
        sem_ids(ids_file("blank.npy", np.array([""] + [str(i) for i in range(1, N_ITEMS)]))),
        ("blank.npy", "1 ids are empty text (first at row 0)", "every row needs an id"),
    ),
    Case(
        "ids-2d",
        sem_ids(ids_file("grid.npy", np.arange(N_ITEMS).reshape(20, 2))),
        ("grid.npy", "ids must be one-dimensional", "one id per row"),
    ),
    Case(
        "join-positional-vs-ids",
        lambda tmp, _mp: [
            "overlap",
            sem_parquet(np.arange(1, N_ITEMS + 1))(tmp),
            views(tmp)[1],
            "--k",
            "5",
        ],
        (
            "cf.npy has no ids (its rows are numbered 0..39) but ",
            "sem.parquet has ids, so joining them would pair items by row number",
            "semantic ids 1..40 (40 items), collaborative row numbers 0..39",
            "shifted by one",
            "--cf-ids",
            "--positional-ids",
        ),
    ),
    Case(
        "join-too-few-shared",
        overlap_with(
            "--k",
            "5",
            "--sem-ids",
            ids_file("sem_ids.npy", np.arange(N_ITEMS)),
            "--cf-ids",
            ids_file("cf_ids.npy", np.arange(25, 25 + N_ITEMS)),
        ),
        ("share only 15 item ids, 38%", "--min-shared 0.5 needs 20", "--min-shared 0.37"),
    ),
    Case(
        "join-ids-written-differently",
        overlap_with(
            "--k",
            "5",
            "--sem-ids",
            ids_file("sem_ids.npy", np.arange(N_ITEMS)),
            "--cf-ids",
            ids_file("cf_ids.txt", "".join(f"{i}.0\n" for i in range(N_ITEMS))),
        ),
        ("share 0 item ids", "the ids match once written alike", "write them the same way"),
    ),
    Case(
        "min-shared-out-of-range",
        overlap_with("--k", "5", "--min-shared", "2"),
        ("--min-shared 2", "must be at most 1", "give a smaller value"),
    ),
    Case(
        "ids-float-too-large",
        sem_ids(ids_file("f.npy", np.arange(N_ITEMS) * 1e16 + 1e20)),
        ("f.npy", "ids are floats above 2^53", "store ids as integers or text"),
    ),
    Case(
        "ids-float32-inexact",
        sem_ids(ids_file("f32.npy", (np.arange(N_ITEMS) * 1e6 + 2**24 + 1).astype(np.float32))),
        ("f32.npy", "ids are float32 values above 2^24", "store ids as integers or text"),
    ),
    Case(
        "ids-bytes-not-utf8",
        sem_ids(ids_file("b.npy", np.array([b"\xff%d" % i for i in range(N_ITEMS)]))),
        ("b.npy", "ids are bytes that are not UTF-8 text", "store ids as integers or text"),
    ),
    Case(
        "ids-file-empty",
        sem_ids(ids_file("e.txt", "\n\n")),
        ("e.txt", "the file is empty", "give one id per line"),
    ),
    Case(
        "ids-zero-size-dtype",
        sem_ids(raw("u0.npy", npy_header((N_ITEMS,), "<U0"))),
        ("u0.npy", "dtype <U0 has zero-size elements", "integer/text ids"),
    ),
    # --- interaction log ---
    Case(
        "log-missing",
        log_case(lambda tmp: tmp / "gone.csv"),
        ("gone.csv", "file not found", "check the path"),
    ),
    Case(
        "log-empty",
        log_case(log("empty.csv", LOG_HEADER)),
        ("empty.csv", "has no rows", "give a log with interactions"),
    ),
    Case(
        "log-zero-bytes",
        log_case(log("blank.csv", "")),
        ("blank.csv", "cannot be read", "check the file"),
    ),
    Case(
        "log-missing-column",
        log_case(log("cols.csv", "user,item_id,timestamp\n1,2,3\n")),
        ("cols.csv", "no column 'user_id' (columns: user, item_id, timestamp)", "--user-col"),
    ),
    Case(
        "log-header-padded-duplicate",
        hits_log(log("pad.csv", padded_header())),
        ("pad.csv: no column 'timestamp'", "names with spaces around them", "write the header"),
    ),
    Case(
        "log-renamed-column-not-given",
        log_case(log("log.csv", LOG_HEADER + LOG_ROWS), "--item-col", "movie"),
        ("log.csv", "no column 'movie'", "--item-col"),
    ),
    Case(
        "log-unsupported-type",
        log_case(log("log.xlsx", "x")),
        ("log.xlsx", "unsupported file type '.xlsx'", ".parquet, .csv or .tsv"),
    ),
    Case(
        "log-wrong-separator",
        hits_log(log("log.tsv", LOG_HEADER + LOG_ROWS)),
        ("log.tsv", "has no tab but 2 commas", "rename it to .csv"),
    ),
    Case(
        "log-empty-ids",
        log_case(log("holes.csv", LOG_HEADER + "1,,5\n" + LOG_ROWS)),
        ("holes.csv", "'item_id' has 1 empty ids", "every interaction needs"),
    ),
    Case(
        "log-truncated-parquet",
        log_case(raw("cut.parquet", lambda tmp: parquet_bytes(tmp)[:300])),
        ("cut.parquet", "cannot be read", "check the file"),
    ),
    Case(
        "log-no-header",
        log_case(log("headerless.csv", LOG_ROWS)),
        ("headerless.csv", "no column 'user_id'", "does not look like a header row", "--user-col"),
    ),
    Case(
        "log-malformed-csv",
        log_case(log("ragged.csv", LOG_HEADER + '"1,2,3\n' + LOG_ROWS)),
        ("ragged.csv", "cannot be read (malformed CSV", "check the file"),
    ),
    Case(
        "log-not-utf8",
        log_case(raw("bin.csv", LOG_HEADER.encode() + b"1,\xff\xfe,3\n" + LOG_ROWS.encode())),
        ("bin.csv", "cannot be read (not UTF-8 text)", "check the file"),
    ),
    Case(
        "log-ids-nested",
        log_case(
            parquet_log(
                "list.parquet",
                {"user_id": [1, 2], "item_id": [[1], [2]], "timestamp": [5, 6]},
            )
        ),
        ("list.parquet column 'item_id'", "ids have type List(Int64)", "one integer or text id"),
    ),
    Case(
        "log-timestamps-nested",
        hits_log(
            parquet_log(
                "sts.parquet",
                {
                    "user_id": [u for u in range(10) for _ in range(6)],
                    "item_id": [(u * 7 + j) % N_ITEMS for u in range(10) for j in range(6)],
                    "timestamp": [{"a": n} for n in range(60)],
                },
            )
        ),
        ("sts.parquet", "column 'timestamp' has type Struct", "not a timestamp", "ISO 8601"),
    ),
    Case(
        "log-same-column-twice",
        log_case(log("same.csv", LOG_HEADER + LOG_ROWS), "--item-col", "user_id"),
        ("same.csv", "the user, item and time columns must differ", "--item-col"),
    ),
    # --- options ---
    Case(
        "k-not-smaller-than-items",
        overlap_with("--k", str(N_ITEMS)),
        ("--k 40", "not smaller than the number of items minus one (40 items", "lower it"),
    ),
    Case("k-zero", overlap_with("--k", "0"), ("--k '0'", "positive integer")),
    Case("k-negative", overlap_with("--k", "10,-3"), ("--k '10,-3'", "positive integer")),
    Case("k-not-integer", overlap_with("--k", "ten"), ("--k 'ten'", "is not an integer")),
    Case(
        "sample-zero",
        overlap_with("--k", "5", "--sample", "0"),
        ("--sample 0", "must be at least 1", "give a larger value"),
    ),
    Case(
        "seed-negative",
        overlap_with("--k", "5", "--seed", "-1"),
        ("--seed -1", "must be at least 0", "give a larger value"),
    ),
    Case(
        "metric-unknown",
        overlap_with("--metric", "l2"),
        ("--metric 'l2'", "choose one of cosine, ip"),
    ),
    Case(
        "device-unknown",
        overlap_with("--device", "tpu"),
        ("--device 'tpu'", "choose one of auto, cpu, cuda"),
    ),
    Case(
        "device-cuda-without-gpu",
        overlap_with("--k", "5", "--device", "cuda"),
        ("--device cuda", "no usable CUDA GPU", "--device cpu"),
    ),
    Case(
        "max-missing-nan",
        run_with_log("hits", "--k", "5", "--max-missing", "nan"),
        ("--max-missing nan", "must be a finite number"),
    ),
    Case(
        "alpha-infinite",
        run_with_log("probe", "--ridge-alpha", "inf", n=120),
        ("--ridge-alpha inf", "must be a finite number"),
    ),
    Case(
        "seed-too-large",
        run_with_log("probe", "--capacity", "mlp1", "--seed", str(2**70), n=120),
        (f"--seed {2**70}", "must be at most 9223372036854775807", "give a smaller value"),
    ),
    Case(
        "n-boot-too-large",
        run_with_log("hits", "--k", "5", "--n-boot", "1000000000"),
        ("--n-boot 1000000000", "must be at most 100000", "give a smaller value"),
    ),
    # --- config file ---
    Case(
        "config-missing",
        lambda tmp, _mp: ["overlap", "--config", tmp / "nope.toml"],
        ("nope.toml", "file not found", "check the --config path"),
    ),
    Case(
        "config-is-folder",
        lambda tmp, _mp: ["overlap", "--config", tmp],
        ("config", "is a folder", "give the config file's path"),
    ),
    Case(
        "config-not-regular",
        lambda tmp, _mp: ["overlap", "--config", fifo("c.toml")(tmp)],
        ("config", "c.toml: not a regular file (a pipe, socket or device)", "save the settings"),
    ),
    Case(
        "config-unknown-key",
        with_config("[options]\nsed = 3\n"),
        ("c.toml [options]", "unknown key 'sed'", "did you mean 'seed'?"),
    ),
    Case(
        "config-unknown-key-no-match",
        with_config("[options]\nflavour = 'vanilla'\n"),
        ("c.toml [options]", "unknown key 'flavour'", "shows each option's key as [config: KEY]"),
    ),
    Case(
        "config-unknown-section",
        with_config("[overlapp]\nk = 5\n"),
        ("c.toml", "unknown section [overlapp]", "did you mean [overlap]?"),
    ),
    Case(
        "config-key-not-for-command",
        with_config("[overlap]\nsplit = 'random'\n"),
        ("c.toml [overlap]", "unknown key 'split': not an option of overlap", "move it to"),
    ),
    Case(
        "config-option-in-data",
        with_config("[data]\nk = 5\n"),
        ("c.toml [data]", "unknown key 'k': an option", "move it to [options]"),
    ),
    Case(
        "config-file-in-options",
        with_config("[options]\nsemantic = 'sem.npy'\n"),
        ("c.toml [options]", "unknown key 'semantic': an input file", "move it to [data]"),
    ),
    Case(
        "config-wrong-type",
        with_config("[options]\nseed = 'one'\n"),
        ("c.toml [options]", 'seed = "one"', "must be an integer"),
    ),
    Case(
        "config-bool-for-integer",
        with_config("[options]\nseed = true\n"),
        ("c.toml [options]", "seed = true must be an integer"),
    ),
    Case(
        "config-wrong-choice",
        with_config("[options]\nmetric = 'l2'\n"),
        ("c.toml [options]", 'metric = "l2"', "is not one of cosine, ip"),
    ),
    Case(
        "config-k-negative",
        with_config("[options]\nk = [5, -1]\n"),
        ("c.toml [options]", "--k", "positive integer"),
    ),
    Case(
        "config-seed-negative",
        with_config("[options]\nseed = -4\n", "--k", "5"),
        ("--seed -4 (set in", "c.toml[options]", "must be at least 0"),
    ),
    Case(
        "config-invalid-toml",
        with_config("[options\nseed = 1\n"),
        ("c.toml", "not valid TOML", "fix the file"),
    ),
    Case(
        "config-data-file-missing",
        config_data,
        ("gone.npy", "file not found", "check the path"),
    ),
    Case(
        "config-empty-path",
        with_config('[data]\nsemantic = ""\n'),
        ("c.toml [data]", 'semantic = "": empty path', "give a file name or remove the key"),
    ),
    Case(
        "config-view-unknown-key",
        compare_config('[views]\nsem = "sem.npy"\ncf = {path = "cf.npy", idz = "ids.npy"}\n'),
        ("c.toml [views]", "view 'cf': unknown key 'idz'", "did you mean 'ids'?"),
    ),
    Case(
        "config-view-not-a-list",
        compare_config('[compare]\nview = "sem=sem.npy"\n'),
        ("c.toml [compare]", 'view = "sem=sem.npy" must be a list of "NAME=PATH[:IDS]" strings'),
    ),
    Case(
        "config-views-twice",
        compare_config('[views]\nsem = "sem.npy"\n[compare]\nview = ["cf=cf.npy"]\n'),
        ("c.toml", "views given twice, in [views] and as view in [compare]", "give the views once"),
    ),
    # --- outputs ---
    Case(
        "output-folder-missing",
        overlap_with("--k", "5", "--json", lambda tmp: tmp / "no" / "out.json"),
        ("out.json", "does not exist", "create it or choose another path"),
    ),
    Case(
        "output-is-folder",
        overlap_with("--k", "5", "--json", lambda tmp: tmp),
        ("output", "is a folder", "give a file name"),
    ),
    Case(
        "output-cannot-be-written",
        disk_full,
        ("out.json", "cannot be written (No space left on device)", "free space"),
    ),
    Case(
        "output-is-an-input",
        overlap_with("--k", "5", "--json", lambda tmp: tmp / "sem.npy"),
        ("--json", "sem.npy: is one of this run's inputs", "never overwrites its inputs"),
    ),
    Case(
        "output-is-a-device",
        overlap_with("--k", "5", "--json", "/dev/null"),
        ("--json /dev/null", "is a device or stream path", "use - for standard output"),
    ),
    Case(
        "output-symlink-into-proc",
        overlap_with("--k", "5", "--json", proc_link),
        ("--json", "out.json: is a device or stream path", "leads into /proc/", "file name"),
    ),
    Case(
        "output-is-a-fifo",
        overlap_with("--k", "5", "--json", fifo("out.json")),
        ("--json", "out.json: is not a regular file (a device, FIFO or socket)", "file name"),
    ),
    Case(
        "output-is-a-stream",
        overlap_with("--k", "5", "--json", "/dev/stdout"),
        ("--json /dev/stdout", "is a device or stream path", "use - for standard output"),
    ),
    Case(
        "output-is-a-process-stream",
        overlap_with("--k", "5", "--json", "/proc/self/fd/1"),
        ("--json /proc/self/fd/1", "is a device or stream path", "use - for standard output"),
    ),
    Case(
        "output-symlink-to-a-stream",
        overlap_with("--k", "5", "--json", stream_link),
        ("--json", "out.json: is a device or stream path", "leads into /dev/", "standard output"),
    ),
    Case(
        "output-names-a-folder",
        overlap_with("--k", "5", "--json", lambda tmp: f"{tmp / 'newdir'}/"),
        ("--json", "newdir/: ends in a separator, so it names a folder", "give a file name"),
    ),
    Case(
        "per-item-names-a-folder",
        lambda tmp, _mp: ["structure", *views(tmp), "--per-item", f"{tmp / 'sub'}/"],
        ("--per-item", "sub/: ends in a separator, so it names a folder", "give a file name"),
    ),
    Case(
        "run-dir-file-is-an-input",
        run_dir_over_input,
        ("semantic.run: is one of this run's inputs", "never overwrites its inputs"),
    ),
    Case(
        "html-to-stdout",
        lambda tmp, _mp: ["report", *views(tmp), "--k", "5", "--html", "-"],
        ("--html -", "this output cannot go to standard output", "give a file name"),
    ),
    Case(
        "outputs-share-stdout",
        lambda tmp, _mp: ["report", *views(tmp), "--k", "5", "--json", "-", "--markdown", "-"],
        ("--markdown -: --json writes to standard output too", "send only one output there"),
    ),
    Case(
        "outputs-share-a-file",
        overlap_with("--k", "5", "--json", lambda tmp: tmp / "out.json", "--per-item",
                     lambda tmp: tmp / "out.json"),
        ("--per-item", "out.json: --json writes to this path too", "give each output its own"),
    ),  # fmt: skip
    Case(
        "gate-output-is-the-baseline",
        gate_args(lambda tmp: tmp / "cosine.json", "--baseline", lambda tmp: tmp / "ip.json",
                  "--json", lambda tmp: tmp / "ip.json"),
        ("--json", "ip.json: is one of this run's inputs", "never overwrites its inputs"),
    ),  # fmt: skip
    # --- splits and user-level evaluation (hits, oracle) ---
    Case(
        "log-required",
        lambda tmp, _mp: ["hits", *views(tmp), "--k", "5"],
        ("--interactions LOG", "needs an interaction log", "[data] interactions"),
    ),
    Case(
        "log-ids-match-no-embeddings",
        run_with_log(
            "hits", "--k", "5", body=LOG_HEADER + "1,1001,5\n1,1002,6\n2,1003,7\n2,1001,9\n"
        ),
        ("log.csv", "none of its 3 item ids has embeddings", "--item-col"),
    ),
    Case(
        "timestamps-not-numbers",
        run_with_log("hits", "--k", "5", body=timestamps("yesterday")),
        ("log.csv", "unparsable timestamps (first: 'yesterday')", "unix seconds or ISO 8601"),
    ),
    Case(
        "timestamps-bad-dates",
        run_with_log("hits", "--k", "5", body=dated("2020-13-45")),
        ("log.csv", "unparsable timestamps (first: '2020-13-45')", "ISO 8601"),
    ),
    Case(
        "timestamps-day-month",
        run_with_log("hits", "--k", "5", body=timed(lambda u, j: f"0{j + 1}/02/2020")),
        ("log.csv", "day and month as numbers (first: '01/02/2020')", "ISO 8601 (YYYY-MM-DD)"),
    ),
    Case(
        "timestamps-mixed-zones",
        run_with_log(
            "hits",
            "--k",
            "5",
            body=timed(lambda u, j: f"2020-01-01T00:0{j}:00" + "+02:00" * ((u + j) % 2)),
        ),
        ("log.csv", "mixes times with a UTC offset", "give every time an offset (Z for UTC)"),
    ),
    Case(
        "timestamps-empty",
        run_with_log("hits", "--k", "5", body=timestamps("")),
        ("log.csv", "has 1 empty timestamps", "every interaction needs a time"),
    ),
    Case(
        "timestamps-infinite",
        run_with_log("hits", "--k", "5", body=timestamps("inf")),
        ("log.csv", "1 NaN or infinite timestamps", "fix or remove those rows"),
    ),
    Case(
        "timestamps-wrong-type",
        run_with_log("hits", "--k", "5", body=LOG_HEADER + "1,2,true\n1,3,false\n2,2,true\n"),
        ("log.csv", "has type Boolean, not a timestamp", "unix seconds"),
    ),
    Case(
        "cutoff-leaves-test-empty",
        run_with_log("hits", "--k", "5", "--split", "temporal", "--cutoff", "1e9"),
        ("--cutoff 1000000000 leaves test empty", "span 0 .. 509", "choose a --cutoff inside"),
    ),
    Case(
        "cutoff-leaves-train-empty",
        run_with_log("hits", "--k", "5", "--split", "temporal", "--cutoff", "-5"),
        ("cutoff -5", "leaves train empty", "choose a --cutoff inside that range"),
    ),
    Case(
        "timestamps-all-equal",
        run_with_log("hits", "--k", "5", "--split", "temporal", body=timestamps_all("5")),
        ("all timestamps are equal (5)", "at least two distinct times", "--split user-temporal"),
    ),
    Case(
        "temporal-cutoff-tied",
        run_with_log(
            "hits", "--k", "5", "--split", "temporal", "--test-frac", "0.5", body=tied_log()
        ),
        ("cutoff 1", "8 of the 10 interactions share the earliest time 1", "lower --test-frac"),
    ),
    Case(
        "test-frac-out-of-range",
        run_with_log("hits", "--k", "5", "--test-frac", "1.5"),
        ("--test-frac is 1.5", "it must lie in (0, 1)"),
    ),
    Case(
        "valid-frac-out-of-range",
        run_with_log("oracle", "--k", "5", "--valid-frac", "1"),
        ("--valid-frac is 1.0", "it must lie in [0, 1)"),
    ),
    Case(
        "valid-rounds-to-zero",
        run_with_log("oracle", "--k", "5", "--split", "user-temporal", "--valid-frac", "0.1"),
        (
            "no validation phase",
            "floor(0.1 * its train rows)",
            "raise --valid-frac to at least 0.2",
        ),
    ),
    Case(
        "split-files-without-test",
        lambda tmp, _mp: [
            "hits",
            *views(tmp),
            "--split",
            "files",
            "--train",
            log_file(tmp),
            "--k",
            "5",
        ],
        ("--split files", "needs --train TRAIN_LOG and --test TEST_LOG", "[data] train and test"),
    ),
    Case(
        "split-files-test-in-history",
        lambda tmp, _mp: [
            "hits",
            *views(tmp),
            "--split",
            "files",
            "--train",
            log_file(tmp),
            "--test",
            tmp / "log.csv",
            "--k",
            "5",
        ],
        (
            "with --split files every test row",
            "are --train and --test the same file?",
            "give --test the held-out interactions",
        ),
    ),
    Case(
        "hits-k-not-smaller-than-candidates",
        run_with_log("hits", "--k", str(N_ITEMS)),
        ("--k 40", "not smaller than the number of candidate items (40)", "lower it"),
    ),
    Case(
        "n-boot-zero",
        run_with_log("hits", "--k", "5", "--n-boot", "0"),
        ("--n-boot 0", "must be at least 1", "give a larger value"),
    ),
    Case(
        "rrf-depth-below-k",
        run_with_log("oracle", "--k", "10", "--rrf-depth", "5"),
        ("--rrf-depth 5", "smaller than the largest k (10)", "raise it to at least 10"),
    ),
    Case(
        "user-vectors-match-no-user",
        flat(
            run_with_log(
                "hits",
                "--k",
                "5",
                cf_users(np.ones((10, 4), np.float32), np.arange(500, 510)),
            )
        ),
        ("users.npy", "none of the log's user ids has a row", "--cf-users-ids"),
    ),
    Case(
        "users-positional-shifted",
        flat(
            run_with_log(
                "hits", "--k", "5", cf_users(np.ones((10, 4), np.float32)), body=users_from_one()
            )
        ),
        (
            "users.npy: has no ids",
            "look shifted by one",
            "--cf-users-ids, or pass --positional-ids",
        ),
    ),
    Case(
        "items-positional-shifted",
        run_with_log("hits", "--k", "5", body=items_from_one()),
        (
            "interaction log",
            "the item embeddings have no ids (their rows are numbered 0..39)",
            "look shifted by one",
            "give the views' ids (--sem-ids / --cf-ids), or pass --positional-ids",
        ),
    ),
    Case(
        "user-vectors-nan",
        flat(run_with_log("hits", "--k", "5", cf_users(np.full((10, 4), np.nan, np.float32)))),
        ("users.npy", "rows contain NaN or infinite values", "first user ids"),
    ),
    # --- probe, structure, explain ---
    Case(
        "probe-shift-side-too-small",
        run_with_log("probe", "--shift", "popularity", "--tail-frac", "0.1", n=120),
        ("--shift popularity", "each side needs at least 20", "raise --tail-frac"),
    ),
    Case(
        "probe-shift-train-too-small",
        run_with_log("probe", "--shift", "popularity", "--tail-frac", "0.9", n=120),
        ("--shift popularity leaves 12 train items", "lower --tail-frac"),
    ),
    Case(
        "probe-rank-too-large",
        run_with_log("probe", "--capacity", "lowrank", "--rank", "50", n=120),
        ("--rank 50", "it must lie in 1..4", "the smaller view dimension"),
    ),
    Case(
        "probe-alpha-not-positive",
        run_with_log("probe", "--ridge-alpha", "0", n=120),
        ("--ridge-alpha 0.0", "must be above 0", "give a larger value"),
    ),
    Case(
        "structure-max-dim-zero",
        lambda tmp, _mp: ["structure", *views(tmp), "--max-dim", "0"],
        ("--max-dim 0", "must be at least 1", "give a larger value"),
    ),
    Case(
        "structure-zero-row",
        lambda tmp, _mp: ["structure", views(tmp)[0], zero_cf(tmp), "--metric", "ip"],
        ("cf_zero.npy", "all zeros", "whatever --metric says", "pass --drop-invalid"),
    ),
    Case(
        "probe-zero-row",
        lambda tmp, _mp: ["probe", views(tmp)[0], zero_cf(tmp), "--metric", "ip"],
        ("cf_zero.npy", "all zeros", "whatever --metric says", "pass --drop-invalid"),
    ),
    Case(
        "explain-unknown-item",
        lambda tmp, _mp: ["explain", "99999", *views(tmp), "--items", items_file(tmp)],
        ("'99999'", "neither an id nor a title", "items.parquet"),
    ),
    Case(
        "explain-item-in-one-view",
        lambda tmp, _mp: ["explain", "0", *one_view_item(tmp)],
        ("id 0 is only in the collaborative view", "no neighbours in both views"),
    ),
    Case(
        "explain-item-dropped",
        lambda tmp, _mp: ["explain", "3", views(tmp)[0], nan_cf(tmp), "--drop-invalid"],
        ("id 3 was dropped as invalid by --drop-invalid", "no neighbours in both views"),
    ),
    Case(
        "explain-empty-item",
        lambda tmp, _mp: ["explain", "", *views(tmp)],
        ("item '' is empty", "give an item id"),
    ),
    Case(
        "explain-too-many-neighbours",
        lambda tmp, _mp: ["explain", "3", *views(tmp), "--neighbours", "500"],
        ("--neighbours 500", "it must lie in 1..39", "the number of items - 1"),
    ),
    Case(
        "items-missing-title-column",
        lambda tmp, _mp: [
            "explain",
            "3",
            *views(tmp),
            "--items",
            items_file(tmp),
            "--title-col",
            "name",
        ],
        ("items.parquet", "no column 'name'", "--title-col"),
    ),
    Case(
        "items-empty",
        explain_items(text("items.csv", "item_id,title\n")),
        ("items.csv", "the table is empty (0 rows)", "give one row per item"),
    ),
    Case(
        "items-title-nested",
        explain_items(
            parquet("items.parquet", {"item_id": range(N_ITEMS), "title": [["a"]] * N_ITEMS})
        ),
        ("items.parquet", "title column 'title' has type List(String)", "--title-col"),
    ),
    Case(
        "items-title-binary",
        explain_items(
            parquet("items.parquet", {"item_id": range(N_ITEMS), "title": [b"\xff"] * N_ITEMS})
        ),
        ("items.parquet", "holds bytes that are not UTF-8 text", "store the titles as text"),
    ),
    Case(
        "items-same-column",
        explain_items(
            text("items.csv", "item_id,title\n" + "".join(f"{i},t{i}\n" for i in range(N_ITEMS))),
            "--title-col",
            "item_id",
        ),
        ("items.csv", "the id and title columns are both 'item_id'", "--title-col"),
    ),
    # --- align ---
    Case(
        "align-method-unknown",
        run_with_log("align", "--method", "darec,lgcn"),
        ("--method 'darec,lgcn'", "'lgcn' is unknown", "choose one of directau, carec, darec"),
    ),
    Case(
        "align-epochs-zero",
        run_with_log("align", "--method", "directau", "--epochs", "0"),
        ("--epochs 0", "must be at least 1", "give a larger value"),
    ),
    Case(
        "align-lr-not-positive",
        run_with_log("align", "--method", "directau", "--lr", "-1"),
        ("--lr -1.0", "the learning rate must be a positive number"),
    ),
    Case(
        "align-seeds-zero",
        run_with_log("align", "--method", "directau", "--seeds", "0"),
        ("--seeds 0", "must be at least 1", "give a larger value"),
    ),
    Case(
        "align-alpha-above-one",
        run_with_log("align", "--method", "directau", "--alpha", "1.5"),
        ("--alpha 1.5", "must be at most 1", "give a smaller value"),
    ),
    Case(
        "align-export-folder-missing",
        run_with_log("align", "--method", "directau", "--export", lambda tmp: tmp / "a" / "b"),
        ("--export", "does not exist", "create it or choose another path"),
    ),
    Case(
        "align-export-is-a-file",
        run_with_log("align", "--method", "directau", "--export", lambda tmp: views(tmp)[0]),
        ("--export", "sem.npy: is a file", "give a folder for the .npz files"),
    ),
    Case(
        "align-export-overwrites-an-input",
        export_over_input,
        ("--export", "ncn_items.npz is one of this run's inputs", "choose another folder"),
    ),
    # --- gate ---
    Case(
        "gate-rule-path-not-in-report",
        gate_with('[[rule]]\npath = "overlap.k.5.overlapp"\nmax_drop_abs = 0.01\n'),
        ("'overlap.k.5.overlapp'", "does not exist in the baseline report", "check the rule"),
    ),
    Case(
        "gate-rule-path-not-a-number",
        gate_with('[[rule]]\npath = "overlap.k"\nmax_drop_abs = 0.01\n'),
        ("'overlap.k'", "is an object, not a number", "point the rule at one of its keys"),
    ),
    Case(
        "gate-rule-section-not-run",
        gate_with('[[rule]]\npath = "hits.k.5.list_jaccard"\nmax_drop_abs = 0.01\n'),
        ("'hits.k.5.list_jaccard'", "section 'hits' was not run", "the baseline report"),
    ),
    Case(
        "gate-rule-unknown-key",
        gate_with('[[rule]]\npath = "overlap.k.5.overlap"\nmax_drop = 0.01\n'),
        ("gate.toml rule 1", "unknown key 'max_drop'", "a rule takes path, max_drop_abs"),
    ),
    Case(
        "gate-rule-without-bound",
        gate_with('[[rule]]\npath = "overlap.k.5.overlap"\n'),
        ("gate.toml rule 1", "has no bound", "give max_drop_abs"),
    ),
    Case(
        "gate-rules-invalid-toml",
        gate_with("[[rule]\npath = 1\n"),
        ("gate.toml", "not valid TOML"),
    ),
    Case(
        "gate-rules-missing",
        gate_with(None, "--rules", lambda tmp: tmp / "nope.toml"),
        ("nope.toml", "file not found", "check --rules"),
    ),
    Case(
        "gate-baseline-not-given",
        gate_args(lambda tmp: tmp / "cosine.json"),
        ("--baseline", "gate needs --baseline BASELINE.json", "[gate]"),
    ),
    Case(
        "gate-baseline-missing",
        gate_args(lambda tmp: tmp / "cosine.json", "--baseline", lambda tmp: tmp / "old.json"),
        ("old.json", "file not found", "check the path"),
    ),
    Case(
        "gate-report-not-json",
        gate_args(
            lambda tmp: (tmp / "new.json").write_text("{not json") and tmp / "new.json",
            "--baseline",
            lambda tmp: tmp / "cosine.json",
        ),
        ("new.json", "not valid JSON"),
    ),
    Case(
        "gate-report-not-complement",
        gate_args(
            lambda tmp: (tmp / "new.json").write_text('{"a": 1}') and tmp / "new.json",
            "--baseline",
            lambda tmp: tmp / "cosine.json",
        ),
        ("current file", "not a complement JSON document", "complement report"),
    ),
    Case(
        "gate-report-nested-too-deep",
        gate_current("[" * 100_000 + "]" * 100_000),
        ("new.json", "not usable JSON (lists or objects nested too deeply", "complement --json"),
    ),
    Case(
        "gate-report-number-too-long",
        gate_current('{"schema": "complement.report/1", "n": ' + "7" * 5000 + "}"),
        ("new.json", "a number too long to read, more than 4300 digits", "complement --json"),
    ),
    Case(
        "gate-value-not-finite",
        gate_current(nan_overlap),
        ("'overlap.k.5.overlap' in the current report is NaN", "not a finite number", "--json"),
    ),
    Case(
        "gate-not-comparable",
        gate_args(lambda tmp: tmp / "ip.json", "--baseline", lambda tmp: tmp / "cosine.json"),
        ("not comparable", "metric differs (baseline cosine, current ip)", "--allow-incomparable"),
        code=3,
    ),
    # --- segments, diversity, the probe protocol ---
    Case(
        "hits-diversity-view-unknown",
        run_with_log("hits", "--diversity-view", "nope"),
        ("--diversity-view 'nope'", "is not one of the views", "name one of them"),
    ),
    Case(
        "hits-segment-col-unknown",
        run_with_log("hits", "--segment-col", "nope"),
        ("--segment-col 'nope'", "needs a table holding that column", "--segment-col activity"),
    ),
    Case(
        "probe-epochs-without-no-early-stop",
        run_with_log("probe", "--capacity", "mlp1", "--epochs", "10"),
        ("--epochs 10", "only with --no-early-stop"),
    ),
]


def gpu_available() -> bool:
    from complement.retrieval import gpu

    return gpu.available()


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input_gets_one_line(case: Case, invoke, tmp_path, monkeypatch):
    work = tmp_path / "case"
    work.mkdir()
    argv = case.build(work, monkeypatch)
    if case.id == "device-cuda-without-gpu" and gpu_available():
        # a machine with a GPU: the same command must succeed on CUDA instead
        result, doc = invoke(*argv)
        assert result.exit_code == 0, result.output
        assert doc["provenance"]["retrieval"]["device"] == "cuda"
        return
    result, _ = invoke(*argv, json_out=False)
    # gate's "not comparable" shows the comparison table on stdout; the answer is on stderr
    output = result.stderr if case.code == 3 else result.output
    assert "Traceback" not in output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    assert result.exit_code == case.code, output
    lines = [line for line in output.splitlines() if line.strip()]
    assert len(lines) == 1, output
    line = lines[0]
    assert line.startswith("complement: error: "), line
    for part in case.says:
        assert part in line, (part, line)
    assert not list(work.glob("**/.*.tmp")), "a temporary output file was left behind"


def test_table_matches_docs():
    """docs/errors.md lists exactly the cases tested here, in the same order."""
    doc = (REPO / "docs" / "errors.md").read_text(encoding="utf-8")
    documented = re.findall(r"^\| `([a-z0-9-]+)` \|", doc, flags=re.M)
    assert documented == [c.id for c in CASES]
    assert len(CASES) >= 25
