"""The command line fixes glibc's mmap and trim thresholds once, before any work."""

from __future__ import annotations

import sys

import pytest

from complement.cli import app as app_module


def test_both_glibc_thresholds_are_set(monkeypatch):
    calls: list[tuple[int, int]] = []

    class FakeLibc:
        def mallopt(self, param: int, value: int) -> int:
            calls.append((param, value))
            return 1

    monkeypatch.setattr(sys, "platform", "linux")
    monkeypatch.setattr("ctypes.CDLL", lambda name: FakeLibc())
    app_module._hand_back_freed_memory()
    assert calls == [(-3, 32 << 20), (-1, 16 << 20)]  # M_MMAP_THRESHOLD, M_TRIM_THRESHOLD


@pytest.mark.parametrize("platform", ["darwin", "win32"])
def test_elsewhere_nothing_is_called(monkeypatch, platform):
    monkeypatch.setattr(sys, "platform", platform)
    monkeypatch.setattr("ctypes.CDLL", lambda name: pytest.fail("no libc call off Linux"))
    app_module._hand_back_freed_memory()


def test_a_libc_without_mallopt_is_no_error(monkeypatch):
    monkeypatch.setattr(sys, "platform", "linux")
    monkeypatch.setattr("ctypes.CDLL", lambda name: object())  # no mallopt attribute
    app_module._hand_back_freed_memory()
