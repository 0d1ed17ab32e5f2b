#!/usr/bin/env bash
# Wall time of `hilgen run --jobs 1` against `--jobs 2` on a tiny experiment (40 BC5CDR training
# sentences, a random tiny encoder with MiniLM's tokenizer, CTD MEDIC, 2 seeds, 3 strategies,
# 34 stages), alternated twice, and whether the two reports have the same rows.
#   scripts/jobs-timing.sh [DIR]        (release build: cargo build --release -p hilgen-cli)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dir=${1:-$(mktemp -d)}
mkdir -p "$dir"
export HILGEN_ENCODER=${HILGEN_ENCODER:-$root/.hilgen/all-MiniLM-L6-v2}
data=${HILGEN_DATA:-$root/../shared/data}
kb=$(cd "${HILGEN_KB:-$root/../shared/kb}" && pwd)/ctd-medic-2017/CTD_diseases.tsv.gz
python3 - "$data/bc5cdr/iob" "$dir" <<'PY'
import os, sys
src, out = sys.argv[1], sys.argv[2]
def take(split, n, dest):
    sents, cur = [], []
    for line in open(os.path.join(src, split), encoding="utf-8"):
        line = line.rstrip("\n")
        if not line:
            if cur: sents.append(cur)
            cur = []
            continue
        cur.append(line)
    sel = [s for s in sents if len(s) <= 25 and any(not l.endswith("\tO") for l in s)][:n]
    open(os.path.join(out, dest), "w").write("\n\n".join("\n".join(s) for s in sel) + "\n\n")
take("train.tsv", 40, "train.tsv"); take("devel.tsv", 20, "dev.tsv"); take("test.tsv", 40, "test.tsv")
PY
cat >"$dir/tiny.toml" <<EOF2
name = "tiny"
k = 1
seeds = [1, 2]
strategies = ["synonyms", "mr", {kind = "lwtr", p = 0.3}]
bootstrap = 50
ensemble_systems = 3
[data]
train = "train.tsv"
dev = "dev.tsv"
test = "test.tsv"
[kb]
ctd = ["$kb"]
[model]
random_tiny = true
[model.tagger]
learning_rate = 0.001
batch_size = 4
[model.schedule]
rule = "budget"
budget = 4
min_epochs = 1
max_epochs = 2
EOF2
rows() { python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['rows'])" "$1"; }
for round in 1 2; do
    for jobs in 1 2; do
        rm -rf "$dir/run-$jobs"
        s=$(date +%s.%N)
        "$root/target/release/hilgen" run "$dir/tiny.toml" --out "$dir/run-$jobs" --jobs $jobs --log warn >/dev/null
        e=$(date +%s.%N)
        echo "round $round, --jobs $jobs: $(python3 -c "print(round($e - $s, 2))") s"
    done
    [ "$(rows "$dir/run-1/results.json")" = "$(rows "$dir/run-2/results.json")" ] && echo "round $round: same rows"
done
