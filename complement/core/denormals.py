"""Denormal numbers flushed to zero while a probe MLP trains or predicts on the CPU.

A float32 value below the smallest normal number (about 1.2e-38), read or produced by an
instruction, costs x86 CPUs a microcode assist of about a hundred cycles: on Intel CPUs one
such lane slows down a whole vector instruction. Real embeddings make them. The fixture's
MiniLM semantic view has two dimensions of about 1e-33 for every item; once centred they are
about 1e-37, and their products with the weights in the first layer and in its gradient are
denormal. That made each of the report's two ``mlp1`` fits 2.4 times slower on an Intel
Xeon: 1.4 s instead of 0.6 s.

:func:`flush_denormals` sets the CPU's flush-to-zero and denormals-are-zero modes (through
``torch.set_flush_denormal``) for the duration: such values are read and written as 0.
Only a value under 1.2e-38 that survives into a result could change that result. In a fit
every one is absorbed by terms some thirty orders of magnitude larger:
- a product of 1e-37 × 0.05 added to pre-activations of about 0.1;
- a weight update of about 1e-34 on weights of about 0.05.

On the fixture the weights, the predictions and the fit's information are the same bits with
and without it (tested).

The mode belongs to a thread. It is set on the calling thread, where the probe's single torch
intra-op thread runs the fit's operations, and restored when the block ends, so the numpy code
that runs on that thread afterwards is unaffected. CUDA devices are left as they are (their
float32 arithmetic handles denormals at full speed).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

__all__ = ["flush_denormals", "flushing"]


def flushing(torch: Any) -> bool:
    """Whether this thread already flushes denormals: the smallest float32 denormal (2^-149),
    times one, reads as 0."""
    tiny = torch.tensor(2.0**-149, dtype=torch.float32)
    return bool((tiny * 1.0).item() == 0.0)


@contextmanager
def flush_denormals(device: str) -> Iterator[None]:
    """Denormals flushed to zero on this thread for the block (CPU devices; see the module
    doc); the mode found on entry is restored on exit."""
    import torch

    if torch.device(device).type != "cpu" or flushing(torch):
        yield  # not a CPU, or already flushing: nothing to set or restore
        return
    if not torch.set_flush_denormal(True):  # a CPU without the modes
        yield
        return
    try:
        yield
    finally:
        torch.set_flush_denormal(False)
