"""How the command line ends: at once beside a thread of complement's still running, as usual
otherwise, with the command's exit code, its ``atexit`` handlers run and its output flushed."""

from __future__ import annotations

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
