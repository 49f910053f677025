"""Output sets: checked up front, written together, nothing lost on failure or signal."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from complement.errors import InputError
from complement.io.writer import (
    OutputSet,
    check_folder_members,
    check_target,
    device_path,
    forget_written,
    written,
)

REPO = Path(__file__).resolve().parents[2]
CONFIG = REPO / "fixtures" / "movielens-100k" / "complement.toml"


def test_refuses_devices_folders_and_inputs(tmp_path):
    with pytest.raises(InputError, match="is a device or stream path"):
        check_target("json", "/dev/null")
    with pytest.raises(InputError, match="is a folder"):
        check_target("json", tmp_path)
    source = tmp_path / "sem.npy"
    source.write_bytes(b"x")
    with pytest.raises(InputError, match="one of this run's inputs"):
        check_target("json", source, inputs=[str(source)])
    link = tmp_path / "link.json"
    link.symlink_to(source)  # a link that resolves to an input is that input
    with pytest.raises(InputError, match="one of this run's inputs"):
        check_target("json", link, inputs=[str(source)])
    proc = tmp_path / "proc.json"
    proc.symlink_to("/proc/self/status")
    with pytest.raises(InputError, match=r"device or stream path \(it leads into /proc/"):
        check_target("json", proc)
    with pytest.raises(InputError, match="cannot go to standard output"):
        check_target("html", "-")
    check_target("json", "-", stdout_ok=True)
    with pytest.raises(InputError, match="does not exist"):
        check_target("json", tmp_path / "missing" / "x.json")


STREAMS = ("/dev/stdout", "/dev/stderr", "/proc/self/fd/1", "/dev/fd/1", "/dev/null")


@pytest.mark.parametrize("stream", STREAMS)
def test_streams_and_links_to_them_are_refused(tmp_path, monkeypatch, stream):
    """realpath() takes /proc/self/fd/1 to the file stdout is redirected to, a regular file:
    each link is followed one hop at a time instead."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "out.json").symlink_to(stream)
    (tmp_path / "hop.json").symlink_to("out.json")  # a chain of links, relative
    (tmp_path / "fds").symlink_to("/proc/self/fd")  # a link among the folders
    for path in (stream, "out.json", tmp_path / "hop.json", "fds/1", "fds/../fd/1"):
        assert device_path(path) in ("/dev", "/proc"), path
        with pytest.raises(InputError, match="is a device or stream path") as found:
            check_target("json", path, stdout_ok=True)
        assert "use - for standard output, or give a file name" in str(found.value)
        with pytest.raises(InputError, match="device or stream path.*; give a file name$"):
            check_target("html", path)
    with pytest.raises(InputError, match="device or stream path.*; give a folder$"):
        check_target("export", "fds", folder=True)


def test_paths_outside_dev_and_proc_are_not_streams(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "real.json").write_text("{}")
    (tmp_path / "link.json").symlink_to("real.json")
    (tmp_path / "loop.json").symlink_to("loop.json")
    (tmp_path / "devices").mkdir()  # a name like /dev, not under it
    for path in ("real.json", "link.json", "new.json", "loop.json", "devices/x", "./dev"):
        assert device_path(path) is None, path
    check_target("json", "link.json")
    assert device_path("/dev/shm/out.json") is None  # shared memory: an ordinary file system
    assert device_path("/dev/shmx/out.json") == "/dev"


def test_a_redirected_stream_is_never_replaced(tmp_path):
    """``--json /dev/stdout >> history.log``: the rename used to replace history.log."""
    history = tmp_path / "history.log"
    history.write_text("IMPORTANT\n")
    for stream in ("/dev/stdout", "/proc/self/fd/1"):
        with history.open("ab") as log:
            out = subprocess.run(
                [sys.executable, "-m", "complement", "overlap", "--config", str(CONFIG),
                 "--json", stream],
                cwd=REPO, stdout=log, stderr=subprocess.PIPE, text=True, timeout=120,
            )  # fmt: skip
        assert out.returncode == 2, out.stderr
        assert out.stderr.count("\n") == 1 and "is a device or stream path" in out.stderr
        assert history.read_text() == "IMPORTANT\n"


@pytest.mark.parametrize("name", ["newdir/", "newdir/.", "newdir/..", "out.json/"])
def test_a_name_ending_in_a_separator_names_a_folder(tmp_path, monkeypatch, name):
    """``--json newdir/`` used to create a file called newdir."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "out.json").write_text("{}")
    with pytest.raises(InputError, match="so it names a folder; give a file name"):
        check_target("json", name)
    with pytest.raises(InputError, match="so it names a folder"), OutputSet() as outputs:
        outputs.stage(name, b"{}")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.json"]
    (tmp_path / "newdir").mkdir()
    check_target("export", "newdir/", folder=True)  # a folder output may end in /
    with pytest.raises(InputError, match="is a folder"):
        check_target("json", "newdir/")  # an existing folder: the usual answer


def test_files_of_an_output_folder_are_checked_as_they_are_staged(tmp_path):
    """A run file (``--run-dir``) that is an input, or a link into /dev, is refused before
    anything is written; the inputs and the other outputs stay as they were."""
    ids = tmp_path / "semantic.run"
    ids.write_text("0\n1\n")
    (tmp_path / "collaborative.run").symlink_to("/dev/stdout")
    other = tmp_path / "out.json"
    other.write_text("old")
    for target, says in (
        (ids, "is one of this run's inputs"),
        (tmp_path / "collaborative.run", "is a device or stream path"),
    ):
        with pytest.raises(InputError, match=says), OutputSet(inputs=(str(ids),)) as outputs:
            outputs.stage(other, b"new")
            outputs.stage(target, b"run")
            outputs.commit()
    assert ids.read_text() == "0\n1\n" and other.read_text() == "old"
    assert not list(tmp_path.glob(".*.tmp"))


def test_folder_members_that_are_inputs_are_refused(tmp_path):
    sem = tmp_path / "ncn_items.npz"
    sem.write_bytes(b"x")
    names = ("ncn_items.npz", "ncn_users.npz")
    with pytest.raises(InputError, match="ncn_items.npz is one of this run's inputs"):
        check_folder_members("export", tmp_path, names, inputs=[str(sem)])
    link = tmp_path / "ncn_users.npz"
    link.symlink_to(sem)  # through a link too
    with pytest.raises(InputError, match="ncn_users.npz is one of this run's inputs"):
        check_folder_members("export", tmp_path, names[1:], inputs=[str(sem)])
    check_folder_members("export", tmp_path, ("darec_items.npz",), inputs=[str(sem)])
    check_folder_members("export", tmp_path / "new", names, inputs=[str(sem)])  # not there yet


def test_two_outputs_of_one_run_never_share_a_file_or_standard_output(tmp_path):
    outputs = OutputSet()
    outputs.check("json", tmp_path / "out.json")
    link = tmp_path / "link.md"
    link.symlink_to(tmp_path / "out.json")  # another spelling of the same file
    for other in (link, tmp_path / "." / "out.json"):
        with pytest.raises(InputError, match="--json writes to this path too"):
            outputs.check("markdown", other)
    outputs.check("markdown", tmp_path / "out.md")
    outputs.check("json_stdout", "-", stdout_ok=True)
    with pytest.raises(InputError, match="writes to standard output too"):
        outputs.check("markdown", "-", stdout_ok=True)
    OutputSet().check("markdown", tmp_path / "out.json")  # each run (set) on its own


def test_long_names_and_modes(tmp_path):
    target = tmp_path / ("r" * 250)
    with OutputSet() as outputs:
        outputs.check("json", target)
        outputs.stage(target, b"{}")
        outputs.commit()
    assert target.read_bytes() == b"{}"
    assert [p.name for p in tmp_path.iterdir()] == [target.name]


def test_the_set_is_replaced_together(tmp_path):
    a, b = tmp_path / "a.json", tmp_path / "b.html"
    a.write_text("old a")
    b.write_text("old b")
    with pytest.raises(RuntimeError), OutputSet() as outputs:
        outputs.stage(a, b"new a")
        raise RuntimeError("the HTML renderer failed")
    assert a.read_text() == "old a" and b.read_text() == "old b"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.json", "b.html"]


def test_written_records_the_targets_renamed_into_place(tmp_path):
    forget_written()
    a, b = tmp_path / "a.json", tmp_path / "b.html"
    with OutputSet() as outputs:
        outputs.stage(a, b"a")
        outputs.stage(b, b"b")
        assert written() == ()  # staged is not written
        outputs.commit()
    assert written() == (str(a), str(b))
    with pytest.raises(RuntimeError), OutputSet() as outputs:
        outputs.stage(tmp_path / "c.json", b"c")
        raise RuntimeError("a renderer failed")
    assert written() == (str(a), str(b))  # a discarded set adds nothing
    forget_written()
    assert written() == ()


def _report_argv(tmp_path: Path) -> list[str]:
    return [
        sys.executable, "-m", "complement", "report", "--config", str(CONFIG), "--quiet",
        "--json", str(tmp_path / "r.json"), "--html", str(tmp_path / "r.html"),
        "--markdown", str(tmp_path / "r.md"),
    ]  # fmt: skip


@pytest.mark.parametrize("sig, code", [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_a_signal_leaves_the_report_set_unchanged(tmp_path, sig, code):
    for name in ("r.json", "r.html", "r.md"):
        (tmp_path / name).write_text(f"accepted {name}")
    proc = subprocess.Popen(
        _report_argv(tmp_path), cwd=REPO, stderr=subprocess.PIPE, text=True
    )
    time.sleep(3.0)  # inside the work, before the outputs are written
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == code, err
    assert err.strip().count("\n") == 0 and "no output was changed" in err
    for name in ("r.json", "r.html", "r.md"):
        assert (tmp_path / name).read_text() == f"accepted {name}"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.html", "r.json", "r.md"]


def test_json_naming_an_input_is_refused_before_any_work(tmp_path):
    sem = REPO / "fixtures" / "movielens-100k" / "sem.npy"
    before = sem.read_bytes()
    started = time.monotonic()
    out = subprocess.run(
        [sys.executable, "-m", "complement", "overlap", "--config", str(CONFIG), "--json",
         str(sem)],
        cwd=REPO, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert out.returncode == 2 and "one of this run's inputs" in out.stderr
    assert out.stderr.count("\n") == 1
    assert sem.read_bytes() == before
    assert time.monotonic() - started < 60


def test_json_to_stdout_is_a_pipeable_document():
    out = subprocess.run(
        [sys.executable, "-m", "complement", "overlap", "--config", str(CONFIG), "--k", "10",
         "--json", "-"],
        cwd=REPO, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert doc["schema"] == "complement.overlap/1" and "10" in doc["k"]
    assert "neighbour agreement" in out.stderr  # the tables went to stderr


