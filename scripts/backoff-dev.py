#!/usr/bin/env python3
"""Dev evidence for the back-off ensemble (docs/results/README.md, "Back-off").

Combines, on a labelled dev split, the dictionary's predictions with a tagger's predictions and
per-word log-probabilities, and prints entity-level micro P/R/F1 (exact span and type, as
seqeval's default mode) of: the dictionary, the tagger, and the back-off (the dictionary's
entities, then the tagger's entities that overlap none of them and whose every word's tag has
probability >= p) at several p, with and without one-word symbols (the rule of
`[selection] backoff_skip_symbols`, `hilgen_corpus::shape::is_symbol`). With --symbols it lists
the symbol additions, right and wrong, and a paired bootstrap over documents of the change that
leaving them out makes.

    hilgen dictionary --kb RUN/kb/kb.hkb --shots RUN/seed-S/sample/fewshot.jsonl \
        --input RUN/data/dev.jsonl --out dict.tsv [the recipe's options]
    hilgen tag --model RUN/seed-S/train/distant/model --input RUN/data/dev.jsonl \
        --out tag.tsv --scores scores.jsonl
    scripts/backoff-dev.py RUN/data/dev.jsonl dict.tsv tag.tsv scores.jsonl [--symbols]
"""
import collections
import json
import math
import random
import sys


def gold_sentences(path):
    return [json.loads(line) for line in open(path, encoding="utf-8")]


def tsv_rows(path):
    """The blank-line-separated sentences of a TSV file, each a list of its lines' fields."""
    sentences, cur = [], []
    for line in open(path, encoding="utf-8"):
        line = line.rstrip("\n")
        if not line.strip():
            if cur:
                sentences.append(cur)
                cur = []
            continue
        cur.append(line.split("\t"))
    if cur:
        sentences.append(cur)
    return sentences


def tsv_tags(path):
    return [[fields[-1] for fields in s] for s in tsv_rows(path)]


def word_probs(path):
    out = []
    for line in open(path, encoding="utf-8"):
        s = json.loads(line)
        out.append([{s["labels"][i]: math.exp(v) for i, v in enumerate(lp)} for lp in s["log_probs"]])
    return out


def entities(tags):
    """Lenient IOB2 decoding: (start, end, type)."""
    found, start, label = set(), None, None
    for i, t in enumerate(list(tags) + ["O"]):
        if t.startswith("B-") or t == "O" or (t.startswith("I-") and t[2:] != label):
            if start is not None:
                found.add((start, i, label))
            start, label = None, None
            if t != "O":
                start, label = i, t[2:]
    return found


def overlaps(e, others):
    return any(not (e[1] <= o[0] or o[1] <= e[0]) for o in others)


def is_symbol(words):
    """hilgen_corpus::shape::is_symbol on a one-word entity."""
    if len(words) != 1 or len(words[0]) > 6:
        return False
    w = words[0]
    upper = sum(c.isupper() for c in w)
    lower = sum(c.islower() for c in w)
    digits = sum(c.isdigit() for c in w)
    return upper >= 1 and (digits >= 1 or upper > lower)


def prf(counts):
    tp, fp, fn = counts
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    return 100 * (2 * p * r / (p + r) if p + r else 0.0), 100 * p, 100 * r


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    if len(args) != 4:
        sys.exit(__doc__)
    gold = gold_sentences(args[0])
    dictionary, tagger, probs = tsv_tags(args[1]), tsv_tags(args[2]), word_probs(args[3])
    if not len(gold) == len(dictionary) == len(tagger) == len(probs):
        sys.exit(f"sentence counts differ: gold {len(gold)}, dictionary {len(dictionary)}, "
                 f"tagger {len(tagger)}, scores {len(probs)}")
    # Per sentence: gold, dictionary, tagger entities with their least word probability.
    rows = []
    for g, d, t, p in zip(gold, dictionary, tagger, probs):
        sure = [(s, e, lab, min(p[i][t[i]] for i in range(s, e))) for s, e, lab in entities(t)]
        rows.append((g, entities(g["tags"]), entities(d), sure))

    def backoff(row, p, skip_symbols):
        g, _, d, sure = row
        out = set(d)
        for s, e, lab, conf in sure:
            if conf >= p and not overlaps((s, e), d) and not (skip_symbols and is_symbol(g["tokens"][s:e])):
                out.add((s, e, lab))
        return out

    def count(pred_of, subset=None):
        c = [0, 0, 0]
        for row in subset if subset is not None else rows:
            pred, gold_e = pred_of(row), row[1]
            c[0] += len(pred & gold_e)
            c[1] += len(pred - gold_e)
            c[2] += len(gold_e - pred)
        return c

    systems = [("dictionary", lambda r: r[2]), ("tagger", lambda r: {x[:3] for x in r[3]})]
    for p in (0.8, 0.85, 0.9, 0.95):
        systems.append((f"back-off {p}", lambda r, p=p: backoff(r, p, False)))
        systems.append((f"back-off {p}, no symbols", lambda r, p=p: backoff(r, p, True)))
    for name, f in systems:
        f1, p, r = prf(count(f))
        print(f"{name:28s} F1 {f1:6.2f}  P {p:5.1f}  R {r:5.1f}")

    if "--symbols" in sys.argv:
        right, wrong = collections.Counter(), collections.Counter()
        docs = collections.defaultdict(list)
        for row in rows:
            g = row[0]
            docs[g.get("doc_id")].append(row)
            for s, e, lab in backoff(row, 0.9, False) - backoff(row, 0.9, True):
                (right if (s, e, lab) in row[1] else wrong)[g["tokens"][s]] += 1
        print(f"symbols the back-off at 0.9 adds: {sum(right.values())} right {right.most_common(8)}, "
              f"{sum(wrong.values())} wrong {wrong.most_common(8)}")
        ids = list(docs)

        def delta(sample):
            with_ = [0, 0, 0]
            without = [0, 0, 0]
            for i in sample:
                for k, v in enumerate(count(lambda r: backoff(r, 0.9, False), docs[i])):
                    with_[k] += v
                for k, v in enumerate(count(lambda r: backoff(r, 0.9, True), docs[i])):
                    without[k] += v
            return prf(without)[0] - prf(with_)[0]

        rng = random.Random(1)
        n, not_better = 1000, 0
        for _ in range(n):
            if delta([rng.choice(ids) for _ in ids]) <= 0:
                not_better += 1
        print(f"no symbols minus with symbols: {delta(ids):+.2f} F1 over {len(ids)} documents; "
              f"paired bootstrap over documents, share of resamples without a gain: {not_better / n:.3f}")


if __name__ == "__main__":
    main()
