"""Generate seqeval conformance expectations for hilgen-metrics.

Run with the real seqeval (pip install seqeval==1.2.2):

    python3 crates/hilgen-metrics/tests/conformance/generate.py > crates/hilgen-metrics/tests/conformance/seqeval_cases.jsonl

Each output line is one case: gold and predicted tag sequences (several sentences), the mode
(default, or strict with a scheme), the zero_division setting, and what seqeval 1.2.2 returns:
per-type precision/recall/F1/support, micro/macro/weighted averages, token accuracy, and for
some cases the text classification report; or the error class seqeval raises. The sequences are
drawn from a seeded generator: valid encodings of random entities in every scheme, then
perturbed (boundary shifts, type swaps, dropped and spurious entities, random tags) so that many
are invalid.
"""
import json
import math
import random
import sys
import warnings

import seqeval
from seqeval.metrics.sequence_labeling import accuracy_score, classification_report
from seqeval.metrics.sequence_labeling import precision_recall_fscore_support as prfs_default
from seqeval.metrics.sequence_labeling import get_entities
from seqeval.metrics.v1 import precision_recall_fscore_support as prfs_strict
from seqeval.metrics.v1 import unique_labels
from seqeval.scheme import BILOU, IOB1, IOB2, IOBES, IOE1, IOE2

assert seqeval.__version__ == "1.2.2" if hasattr(seqeval, "__version__") else True
warnings.filterwarnings("ignore")

SEED = 20261121
CASES_PER_SETTING = 150
TYPES = ["Chem", "Dis", "Gene"]
SCHEMES = {"iob1": IOB1, "iob2": IOB2, "ioe1": IOE1, "ioe2": IOE2, "iobes": IOBES, "bilou": BILOU}
LETTERS = {"iob1": "IOB", "iob2": "IOB", "ioe1": "IOE", "ioe2": "IOE", "iobes": "IOBES", "bilou": "BILOU"}


def spans(rng, n):
    out, i = [], 0
    while i < n:
        if rng.random() < 0.3:
            length = rng.choice([1, 1, 2, 3])
            end = min(n, i + length)
            out.append((i, end, rng.choice(TYPES)))
            i = end if rng.random() < 0.7 else end + 1
        else:
            i += 1
    return out


def encode(sp, n, scheme):
    tags = ["O"] * n
    for k, (s, e, t) in enumerate(sp):
        before = k > 0 and sp[k - 1][1] == s and sp[k - 1][2] == t
        after = k + 1 < len(sp) and sp[k + 1][0] == e and sp[k + 1][2] == t
        for i in range(s, e):
            first, last = i == s, i == e - 1
            if scheme == "iob1":
                p = "B" if first and before else "I"
            elif scheme in ("iob2", "default"):
                p = "B" if first else "I"
            elif scheme == "ioe1":
                p = "E" if last and after else "I"
            elif scheme == "ioe2":
                p = "E" if last else "I"
            else:
                single, end_ = ("U", "L") if scheme == "bilou" else ("S", "E")
                p = single if first and last else "B" if first else end_ if last else "I"
            tags[i] = p + "-" + t
    return tags


ODD_TAGS = ["B", "I", "O", "E", "S", "B-Chem-X", "I-", "O-Dis", "."]


def perturb(rng, tags, letters, rate, odd):
    """Replaces tags at `rate`: by O, by a random prefix of `letters` and type, or (odd) by odd tags."""
    out = list(tags)
    for i in range(len(out)):
        if rng.random() < rate:
            r = rng.random()
            if r < 0.4:
                out[i] = "O"
            elif r < 0.85 or not odd:
                out[i] = rng.choice(letters) + "-" + rng.choice(TYPES)
            else:
                out[i] = rng.choice(ODD_TAGS)
    return out


def sequences(rng, scheme, letters, rate, odd):
    gold, pred = [], []
    for _ in range(rng.randint(1, 5)):
        n = rng.randint(1, 12)
        g = spans(rng, n)
        p = [x for x in g if rng.random() > 0.15]
        p = [(s, min(n, e + 1), t) if rng.random() < 0.1 else (s, e, t) for s, e, t in p]
        p = sorted(set(p + [x for x in spans(rng, n) if rng.random() < 0.2]))
        p = [x for k, x in enumerate(p) if k == 0 or x[0] >= p[k - 1][1]]
        enc = "iob2" if scheme == "default" else scheme
        gold.append(perturb(rng, encode(g, n, enc), letters, rate, odd))
        pred.append(perturb(rng, encode(p, n, enc), letters, rate, odd))
    return gold, pred


def num(x):
    x = float(x)
    return "nan" if math.isnan(x) else x


def run_case(gold, pred, scheme, zd, want_report):
    if scheme == "default":
        types = lambda: sorted({t for t, _, _ in get_entities(gold)} | {t for t, _, _ in get_entities(pred)})
        prfs = lambda avg: prfs_default(gold, pred, average=avg, zero_division=zd)
        report = lambda d: classification_report(gold, pred, digits=d, zero_division=zd)
    else:
        cls = SCHEMES[scheme]
        types = lambda: unique_labels(gold, pred, cls)
        prfs = lambda avg: prfs_strict(gold, pred, average=avg, zero_division=zd, scheme=cls)
        report = lambda d: classification_report(gold, pred, digits=d, zero_division=zd, mode="strict", scheme=cls)
    try:
        p, r, f, s = prfs(None)
        res = {"types": types(), "p": [num(x) for x in p], "r": [num(x) for x in r], "f": [num(x) for x in f], "s": [int(x) for x in s]}
        for avg in ("micro", "macro", "weighted"):
            ap, ar, af, asup = prfs(avg)
            res[avg] = [num(ap), num(ar), num(af), int(asup)]
        res["accuracy"] = num(accuracy_score(gold, pred))
        if want_report:
            digits = 2 if want_report == 1 else 4
            try:
                res["report"] = report(digits)
                res["digits"] = digits
            except ValueError:
                res["report_error"] = "ValueError"
        return res
    except (ValueError, KeyError, IndexError) as e:
        return {"error": type(e).__name__}


def main():
    rng = random.Random(SEED)
    n = 0
    for scheme in ["default"] + list(SCHEMES):
        for i in range(CASES_PER_SETTING * (3 if scheme == "default" else 1)):
            rate = rng.choice([0.0, 0.0, 0.05, 0.15, 0.4])
            if scheme == "default":
                letters, odd = "BIESLU", True
            else:
                # Mostly the scheme's own prefixes; sometimes others, which strict mode rejects.
                letters = LETTERS[scheme].replace("O", "") if rng.random() > 0.05 else "BIESLU"
                odd = False
            gold, pred = sequences(rng, scheme, letters, rate, odd)
            zd = rng.choice(["warn", "warn", 0, 1])
            want_report = 1 if i % 7 == 0 else 2 if i % 7 == 3 else 0
            result = run_case(gold, pred, scheme, zd, want_report)
            print(json.dumps({"id": n, "mode": "default" if scheme == "default" else "strict",
                              "scheme": None if scheme == "default" else scheme, "zero_division": str(zd),
                              "gold": gold, "pred": pred, "expect": result}, separators=(",", ":")))
            n += 1


if __name__ == "__main__":
    main()
