"""How the command line ends: at once beside a thread of complement's still running, as usual
otherwise, with the command's exit code, its ``atexit`` handlers run and its output flushed."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

SCRIPT = textwrap.dedent(
    """
    import atexit, os, sys, threading, time
    from complement.cli import app as cli

    def joined_at_exit():  # not a daemon: the interpreter's teardown waits for it
        time.sleep(0.3)
        os.write(2, b"waited for the other threads\\n")

    atexit.register(lambda: print(" atexit ran", end=""))

    def busy():
        while True:
            time.sleep(0.005)

    def command():
        if THREAD:
            threading.Thread(target=busy, name=THREAD, daemon=True).start()
        threading.Thread(target=joined_at_exit, name="pool-worker").start()
        print("partial output", end="")  # a pipe: block-buffered, not yet written
        sys.exit(CODE)

    cli.app = command
    cli.main()
    """
)


def _run(thread: str | None, code: object) -> subprocess.CompletedProcess[str]:
    source = f"THREAD = {thread!r}\nCODE = {code!r}\n" + SCRIPT
    return subprocess.run(
        [sys.executable, "-c", source], capture_output=True, text=True, timeout=60
    )


@pytest.mark.parametrize("code", [143, 130, 2])
def test_a_running_side_thread_ends_the_process_at_once(code):
    done = _run("complement-side", code)
    assert done.returncode == code, done.stderr
    assert done.stdout == "partial output atexit ran"
    assert "waited" not in done.stderr  # no interpreter teardown beside the thread


def test_a_message_as_exit_code_is_printed_and_exits_1():
    done = _run("complement-side", "complement: stopped")
    assert done.returncode == 1
    assert done.stderr == "complement: stopped\n"


@pytest.mark.parametrize("thread", [None, "some-library-thread"])
def test_otherwise_the_interpreter_ends_as_usual(thread):
    done = _run(thread, 143)
    assert done.returncode == 143, done.stderr
    assert done.stdout == "partial output atexit ran"
    assert done.stderr == "waited for the other threads\n"


CLEAN_UP = textwrap.dedent(
    """
    import atexit, os, signal, sys, time
    from complement.cli import app as cli

    def clean_up():  # registered first, runs last: after the command's own clean-up
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(0.3)
        os.write(2, b"clean-up finished\\n")

    def command():
        atexit.register(clean_up)
        sys.exit(0)

    cli.app = command
    cli.main()
    """
)


def test_a_sigterm_during_the_clean_up_lets_it_finish():
    """Once the command is over, a SIGTERM no longer breaks off its ``atexit`` clean-up (a Ray
    instance shut down: broken off, it printed a traceback or left processes behind)."""
    done = subprocess.run(
        [sys.executable, "-c", CLEAN_UP], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == "clean-up finished\n"


STOPPED_AFTER_WRITING = textwrap.dedent(
    """
    import os, signal, sys, time
    from complement.cli import app as cli
    from complement.cli import common

    def tables(doc, console):  # SIGTERM while the tables are printed, the files written
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(5)

    common.render_document = tables
    sys.argv = ["complement", "overlap", "--config", CONFIG, "--k", "5",
                "--json", OUT, "--quiet"]
    cli.main()
    """
)


def test_a_sigterm_after_the_outputs_were_written_says_so(tmp_path):
    from pathlib import Path

    out = tmp_path / "overlap.json"
    config = Path(__file__).resolve().parents[2] / "fixtures" / "movielens-100k" / "complement.toml"
    source = f"CONFIG = {str(config)!r}\nOUT = {str(out)!r}\n" + STOPPED_AFTER_WRITING
    done = subprocess.run(
        [sys.executable, "-c", source], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 143, done.stderr
    assert done.stderr == "complement: terminated after its outputs were written\n"
    assert json.loads(out.read_text())["k"]
