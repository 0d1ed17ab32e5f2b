#!/usr/bin/env bash
# How good are the silver labels of a run whose pool is a labelled split (the default: the
# training split with its labels removed)? Scores, per seed, each silver set against the
# split's gold labels of the same sentences (`hilgen eval --subset`), the LLM's answers before
# the knowledge-base filter (`hilgen llm tag --offline`: from the response cache, so only
# after the run, with the same client configuration), and the union of the dictionary's and
# the LLM's labels (`hilgen ensemble --method union`).
# Usage: scripts/silver-quality.sh RUN_DIR GOLD.tsv [LLM_CONFIG] [TYPES]
#   e.g. scripts/silver-quality.sh runs/bc5cdr-llm-silver "$HILGEN_DATA/bc5cdr/iob/train.tsv" \
#        experiments/results/llm-local-greedy.toml Chemical,Disease
set -euo pipefail
run=$1 gold=$2 llm=${3:-} types=${4:-}
hilgen=${HILGEN_BIN:-hilgen}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
score() { "$hilgen" eval --gold "$gold" --pred "$1" --subset --format json --log error; }
prf() { python3 -c 'import json,sys; m=json.load(sys.stdin)["micro"]; print("P %.1f R %.1f F1 %.1f" % tuple(100*m[k] for k in ("precision","recall","f1")))'; }
micro() { score "$1" | prf; }
for seed_dir in "$run"/seed-*/; do
  seed=$(basename "$seed_dir")
  for set in "$seed_dir"augment/*/; do
    name=$(basename "$set")
    [ -f "$set/synthetic.tsv" ] || continue
    # Only silver sets of pool sentences (distant, llm-silver, self-train): every sentence is in the split.
    json=$(score "$set/synthetic.tsv" 2>/dev/null) || continue
    echo "$seed $name: $(prf <<<"$json")"
  done
  silver="${seed_dir}augment/llm-silver/synthetic.tsv"
  if [ -n "$llm" ] && [ -f "$silver" ]; then
    "$hilgen" llm tag --input "$silver" --types "$types" --config "$llm" --offline --out "$tmp/raw.tsv" --log error >/dev/null 2>&1
    echo "$seed llm answers before the knowledge-base filter: $(micro "$tmp/raw.tsv")"
    for d in "$seed_dir"augment/distant*/; do
      [ -f "$d/synthetic.tsv" ] || continue
      "$hilgen" ensemble --method union --pred "$d/synthetic.tsv" --pred "$silver" --out "$tmp/union.tsv" --log error >/dev/null
      echo "$seed $(basename "$d") + llm-silver (union): $(micro "$tmp/union.tsv")"
    done
  fi
done
