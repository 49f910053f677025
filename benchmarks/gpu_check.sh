#!/usr/bin/env bash
# The GPU checks in one run, for a machine with an NVIDIA GPU and a CUDA build of torch
# (Python >= 3.11 with numpy, pytest and hypothesis; faiss and Ray are optional):
#
#   OUT=folder bash benchmarks/gpu_check.sh        # about 8 minutes on one H200
#
# 1. the CUDA tests: complement's CUDA backend against the brute-force reference and the CPU
#    backend (tests/retrieval, the tests named cuda);
# 2. benchmarks/run.py --device cuda on item k-NN and hits: complement on the GPU against the
#    bare torch product of the same shapes (target: at least 70% of its throughput) and against
#    complement's CPU backend's lists (target: every list identical), written to $OUT;
# 3. where Ray is installed, the Ray engine with GPU tasks against the local engine (--quick).
#
# complement runs from this checkout (PYTHONPATH), not from an installed copy. PY: the Python to
# use (default python3). DEVICE=cpu QUICK=1 runs the same steps on the CPU's small grid, to check
# the script itself on a machine without a GPU. Exit status: 1 when a step failed.
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-benchmarks/results}
PY=${PY:-python3}
DEVICE=${DEVICE:-cuda}
QUICK=${QUICK:+--quick}
mkdir -p "$OUT"
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
status=0
step() { echo; echo "== $*"; }

step "machine"
nvidia-smi -L 2>/dev/null || echo "no nvidia-smi"
if ! "$PY" - "$DEVICE" <<'EOF'
import sys

import numpy
import torch

device = sys.argv[1]
print("python", sys.version.split()[0], "numpy", numpy.__version__, "torch", torch.__version__)
if device == "cuda":
    if not torch.cuda.is_available():
        sys.exit("torch sees no CUDA GPU: nothing to check")
    print("GPU:", torch.cuda.get_device_name(0))
EOF
then
  exit 1
fi

step "CUDA tests"
"$PY" -m pytest -p no:cacheprovider -o addopts= -q -rs -k cuda \
  tests/retrieval/test_retrieval.py tests/retrieval/test_fast_paths.py 2>&1 | tee "$OUT/gpu-tests.txt"
[ "${PIPESTATUS[0]}" -eq 0 ] || status=1

step "benchmarks/run.py --device $DEVICE (item k-NN, hits)"
"$PY" benchmarks/run.py --device "$DEVICE" $QUICK --only item,hits --out "$OUT" --timeout 150 \
  2>&1 | tee "$OUT/gpu-bench.txt"
[ "${PIPESTATUS[0]}" -eq 0 ] || status=1
result=$(sed -n 's/^wrote //p' "$OUT/gpu-bench.txt" | tail -1)
if [ -n "$result" ]; then
  "$PY" benchmarks/table.py "$result" | tee "$OUT/gpu-table.md"
fi

step "Ray engine, $DEVICE tasks"
if "$PY" -c "import ray" 2>/dev/null; then
  "$PY" benchmarks/run.py --engine ray --device "$DEVICE" --quick --out "$OUT" --timeout 150 \
    2>&1 | tee "$OUT/gpu-ray.txt"
  [ "${PIPESTATUS[0]}" -eq 0 ] || status=1
else
  echo "Ray is not installed here: the Ray engine's GPU check was not run"
fi
exit "$status"
