#!/usr/bin/env bash
# Training and inference throughput of an encoder (default all-mpnet-base-v2) in hilgen and in
# PyTorch + transformers, one after the other, twice: `cargo bench -p hilgen-models --bench
# throughput` and `crates/hilgen-models/benches/torch_anchor.py` on the same sentences, batch
# sizes and threads. PYTHON must have torch==2.13.0 and transformers. HILGEN_BENCH_PRECISION=bf16
# measures bfloat16 mixed precision on both sides (hilgen's `precision = "bf16"`, torch.autocast).
#   PYTHON=/tmp/pyenv/bin/python scripts/bench-encoder-vs-torch.sh [ENCODER_DIR]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
export HILGEN_BENCH_ENCODER=${1:-$root/.hilgen/all-mpnet-base-v2}
export HILGEN_DATA=${HILGEN_DATA:-$root/../shared/data}
export HILGEN_ENCODER=${HILGEN_ENCODER:-$root/.hilgen/all-MiniLM-L6-v2}
for round in 1 2; do
    cargo bench -q -p hilgen-models --bench throughput 2>/dev/null | tr -d '\n'; echo
    "${PYTHON:-python3}" -W ignore crates/hilgen-models/benches/torch_anchor.py 2>/dev/null | tail -1
done
