#!/usr/bin/env bash
# hilgen against PyTorch + transformers on one CUDA GPU: one epoch of training and tagging the
# test split, random-weight encoders of MiniLM (6 x 384) and BERT-Large (24 x 1024) shape, f32
# and bf16, BC5CDR train (4,560 sentences) at batch 32, test (4,797) at batch 64; then a small
# `hilgen run` with `device = "cuda"`. No LD_PRELOAD: hilgen loads libtorch_cuda.so itself.
#
# On the GPU machine (torch + transformers installed, no network), from the repository root,
# with DIR holding: hilgen (built against that machine's torch, see docs/gpu.md), tok/ (the
# MiniLM tokenizer files), data/bc5cdr/{iob,pubtator}, kb/{ctd-medic-2017,mesh-tree-2017}:
#   scripts/gpu/throughput.sh DIR OUT
# Prints one line per measurement (HILGEN ... / ANCHOR ...) and writes OUT/summary.txt.
# QUICK=1: hilgen at its defaults against PyTorch with batches padded as hilgen pads them
# (PyTorch's faster setting), no pad-1 comparison, no small run.
set -uo pipefail
DIR=$(cd "$1" && pwd); OUT=$(mkdir -p "$2" && cd "$2" && pwd)
HERE=$(cd "$(dirname "$0")" && pwd)
TL=$(python3 -c 'import torch,os;print(os.path.dirname(torch.__file__)+"/lib")')
export LD_LIBRARY_PATH=$TL PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1
unset LD_PRELOAD
HILGEN=$DIR/hilgen
TRAIN=$DIR/data/bc5cdr/iob/train.tsv TEST=$DIR/data/bc5cdr/iob/test.tsv
WORK=$(mktemp -d)
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | tee "$OUT/summary.txt"
python3 -c 'import torch,transformers;print("torch",torch.__version__,"transformers",transformers.__version__)' | tee -a "$OUT/summary.txt"
(cd "$DIR" && python3 "$HERE/mk_enc.py" "$WORK/enc" minilm large) >/dev/null 2>>"$OUT/errors.log" || { echo "mk_enc failed"; tail -5 "$OUT/errors.log"; exit 1; }

# hilgen: train one epoch, then tag the test split with the trained model.
hilgen_pair() { # ENC PREC PAD
    local m="$WORK/m-$1-$2-$3" pad=()
    [ "$3" != default ] && pad=(--pad-to-multiple "$3")
    local t0=$(date +%s.%N)
    "$HILGEN" train --train "$TRAIN" --encoder "$WORK/enc/$1" --device cuda --precision "$2" --epochs 1 \
        --batch-size 32 --no-dann "${pad[@]}" --out "$m" 2>"$m.train.log" || { echo "HILGEN $1 $2 pad=$3 train FAILED"; tail -5 "$m.train.log"; return; }
    local t1=$(date +%s.%N)
    local tps=$(python3 -c "import json;print(round(json.load(open('$m/tagger.json'))['report']['tokens_per_second']))" 2>/dev/null || grep -o '[0-9]* tokens/s' "$m.train.log" | tail -1)
    "$HILGEN" tag --model "$m" --input "$TEST" --out "$m.pred.tsv" --device cuda --batch-size 64 "${pad[@]}" 2>"$m.tag.log"
    local tag=$(grep -o 'in [0-9.]*s' "$m.tag.log" | tail -1)
    echo "HILGEN enc=$1 prec=$2 pad=$3 train_tok_s=$tps train_wall_s=$(python3 -c "print(round($t1-$t0,1))") tag=$tag" | tee -a "$OUT/summary.txt"
}
APAD=1; [ "${QUICK:-0}" = 1 ] && APAD=32
for enc in minilm large; do
    for prec in f32 bf16; do
        hilgen_pair $enc $prec default
        (cd "$DIR" && python3 "$HERE/anchor.py" "$WORK/enc/$enc" "$TRAIN" "$TEST" $prec 1 32 $APAD) 2>>"$OUT/errors.log" | tee -a "$OUT/summary.txt"
    done
done
[ "${QUICK:-0}" = 1 ] && { rm -rf "$WORK"; exit 0; }
# Batch shapes: hilgen with one shape per batch (pad 1), and PyTorch padded to 32 like hilgen.
for enc in minilm large; do
    hilgen_pair $enc bf16 1
    (cd "$DIR" && python3 "$HERE/anchor.py" "$WORK/enc/$enc" "$TRAIN" "$TEST" bf16 1 32 32) 2>>"$OUT/errors.log" | tee -a "$OUT/summary.txt"
done
# A small experiment on the GPU (no preload), MiniLM-shaped random encoder.
export HILGEN_DATA=$DIR/data HILGEN_KB=$DIR/kb HILGEN_ENCODER=$WORK/enc/minilm
t0=$(date +%s)
"$HILGEN" run "$HERE/small-run.toml" --out "$WORK/run" >"$OUT/run.log" 2>&1
echo "RUN exit=$? wall_s=$(( $(date +%s) - t0 )) $(grep -c 'cuda\|CUDA' "$OUT/run.log") lines-mentioning-cuda" | tee -a "$OUT/summary.txt"
cp "$WORK/run/results.md" "$OUT/run-results.md" 2>/dev/null
rm -rf "$WORK"
