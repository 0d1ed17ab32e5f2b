"""Benchmark: `hilgen eval` versus Python seqeval 1.2.2 on the same 1M-token gold/pred pair.

    cargo build --release -p hilgen-cli
    python3 -m venv /tmp/seqeval-venv && /tmp/seqeval-venv/bin/pip install seqeval==1.2.2
    /tmp/seqeval-venv/bin/python benches/eval_vs_seqeval.py target/release/hilgen

Gold is BC5CDR train+devel+test (from HILGEN_DATA, default ../shared/data) repeated to at least
1,000,000 tokens; the prediction is gold with seeded noise (dropped, shifted, retyped and
spurious entities). Both sides read the two files and print the same classification report
(digits=4; the script checks they are identical). Times are wall-clock, best of 3 runs each;
the Python side is timed in-process (no interpreter start-up), the Rust side as a whole process.
"""
import os
import random
import subprocess
import sys
import tempfile
import time

from seqeval.metrics import classification_report


def read(path):
    sents, cur = [], []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line:
                if cur:
                    sents.append(cur)
                    cur = []
                continue
            tok, tag = line.split("\t")
            cur.append((tok, tag))
    if cur:
        sents.append(cur)
    return sents


def noisy(tags, rng):
    out = list(tags)
    for i, t in enumerate(out):
        r = rng.random()
        if t.startswith("B-") and r < 0.08:
            out[i] = "O"
        elif t.startswith("B-") and r < 0.12:
            out[i] = "B-" + ("Chemical" if t.endswith("Disease") else "Disease")
        elif t.startswith("I-") and r < 0.06:
            out[i] = "O"
        elif t == "O" and r < 0.01:
            out[i] = "B-Chemical"
    return out


def write(path, sents):
    with open(path, "w", encoding="utf-8") as f:
        for s in sents:
            for tok, tag in s:
                f.write(f"{tok}\t{tag}\n")
            f.write("\n")


def best_of(n, fn):
    best, out = float("inf"), None
    for _ in range(n):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


def main():
    binary = sys.argv[1] if len(sys.argv) > 1 else "target/release/hilgen"
    data = os.environ.get("HILGEN_DATA", "../shared/data")
    base = []
    for split in ("train", "devel", "test"):
        base += read(os.path.join(data, "bc5cdr/iob", split + ".tsv"))
    gold, tokens = [], 0
    while tokens < 1_000_000:
        gold += base
        tokens += sum(len(s) for s in base)
    rng = random.Random(7)
    pred = [list(zip([t for t, _ in s], noisy([g for _, g in s], rng))) for s in gold]
    with tempfile.TemporaryDirectory() as d:
        gp, pp = os.path.join(d, "gold.tsv"), os.path.join(d, "pred.tsv")
        write(gp, gold)
        write(pp, pred)

        def python_side():
            g = [[t for _, t in s] for s in read(gp)]
            p = [[t for _, t in s] for s in read(pp)]
            return classification_report(g, p, digits=4)

        def rust_side():
            r = subprocess.run([binary, "eval", "--gold", gp, "--pred", pp, "--digits", "4", "--log", "error"],
                               check=True, capture_output=True, text=True)
            return r.stdout

        t_rust, rep_rust = best_of(3, rust_side)
        t_py, rep_py = best_of(3, python_side)
    same = rep_rust.rstrip("\n") == rep_py.rstrip("\n")
    print(f"tokens: {tokens}, sentences: {len(gold)}")
    print(rep_py)
    print(f"seqeval (read + classification_report): {t_py:.3f} s")
    print(f"hilgen eval (whole process):            {t_rust:.3f} s")
    print(f"speed-up: {t_py / t_rust:.1f}x; identical reports: {same}")
    if not same:
        print(rep_rust)
        sys.exit(1)


if __name__ == "__main__":
    main()
