#!/usr/bin/env python3
"""Dev-free evidence for which dictionary names to trust: agreement with held-out silver labels.

The pipeline does this itself with `[dictionary] heldout_agreement` (hilgen_dictionary::heldout,
README "[dictionary]"); this script is the offline tool the evidence came from, kept to inspect
a held-out split by branch and by name.

The dictionary labels a concept through its MeSH tree branch (`D02`, `D08`, ...); a branch the
shots never name gets its label only through the tree letter (`D`), and some such branches are
classes the corpus does not mark ("enzyme", "analgesic", "tablets"). Choosing which to drop takes
hundreds of labelled dev sentences (docs/results/README.md). This script tests a choice that needs
none: the distant silver labels of names in branches the shots never name are held out (marked
unknown, out of the loss), a tagger is trained on the rest, and each held-out name is judged by
how sure that tagger is, in the pool, that its matches are entities of the label the dictionary
gave them. Names the tagger disagrees with (mean probability below --threshold) are the ones to
drop; with --gold and --dictionary it prints the dictionary's F1 on a labelled split without them
(evidence only: the labelled split chooses nothing here, the threshold is the tagger's majority).

    hilgen run X.toml --seeds 1 --stop-after seed-1/augment/distant --out RUN
    hilgen dictionary --kb RUN/kb/kb.hkb --shots RUN/seed-1/sample/fewshot.jsonl \
        --input RUN/data/dev.jsonl --out dict.tsv --report report.json [the recipe's options]
    scripts/heldout-agreement.py prepare RUN/seed-1/augment/distant/synthetic.tsv report.json \
        $HILGEN_KB/mesh-tree-2017/2017MeshTree.txt OUT [--letters D]   # OUT/silver.jsonl, spans, pool
    (15 copies of RUN/seed-1/sample/fewshot.jsonl in OUT/shots.jsonl)
    hilgen train --train OUT/shots.jsonl OUT/silver.jsonl --out OUT/model --epochs 2 \
        --learning-rate 1e-4 --batch-size 16 --no-dann --seed 1
    hilgen tag --model OUT/model --input OUT/pool.jsonl --out OUT/pool.tsv --scores OUT/scores.jsonl
    scripts/heldout-agreement.py score OUT [--gold RUN/data/dev.jsonl --dictionary dict.tsv]

Names are looked up in the MeSH tree by their lower-cased text (also without or with a final
"s"); silver mentions found under no MeSH name keep their labels. `--letters D` holds out the
chemical tree only (disease concepts also count as seen through CTD's slim categories, which this
lookup does not read).
"""
import collections
import importlib.util
import json
import math
import os
import re
import sys


def backoff_dev():
    """scripts/backoff-dev.py as a module (its IOB2 decoding, readers and P/R/F1)."""
    spec = importlib.util.spec_from_file_location(
        "backoff_dev", os.path.join(os.path.dirname(os.path.abspath(__file__)), "backoff-dev.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def prepare(silver, report, mesh_tree, out, only=None):
    tree = collections.defaultdict(set)
    for line in open(mesh_tree, encoding="utf-8-sig"):
        p = line.rstrip("\n").split("\t")
        if len(p) >= 3 and p[0] != "Tree Number":
            tree[p[2].lower()].add(p[0][:3])
    bd = backoff_dev()
    seen = set(json.load(open(report))["types"]["fine"])
    letters = {t[0] for t in seen if re.fullmatch(r"[A-Z][0-9][0-9]", t)}
    if only:
        letters &= set(only)

    def branches(text):
        t = re.sub(r"\s+", " ", text.lower().replace(" - ", "-")).strip()
        for cand in (t, t[:-1] if t.endswith("s") else None, t + "s"):
            if cand and cand in tree:
                return {b for b in tree[cand] if b[0] in letters}
        return None

    os.makedirs(out, exist_ok=True)
    held = collections.Counter()
    with open(f"{out}/silver.jsonl", "w") as s_out, open(f"{out}/spans.jsonl", "w") as m_out, \
            open(f"{out}/pool.jsonl", "w") as p_out:
        for sentence in bd.tsv_rows(silver):
            tokens = [w for w, *_ in sentence]
            tags = [row[-1] for row in sentence]
            unknown, spans = [], []
            for a, b, label in sorted(bd.entities(tags)):
                br = branches(" ".join(tokens[a:b]))
                if br and not (br & seen):
                    for i in range(a, b):
                        tags[i] = "O"
                        unknown.append(i)
                    spans.append((a, b, label, sorted(br)))
                    held[" ".join(tokens[a:b]).lower()] += 1
            s_out.write(json.dumps({"tokens": tokens, "tags": tags, "unknown": sorted(unknown)}) + "\n")
            m_out.write(json.dumps(spans) + "\n")
            p_out.write(json.dumps({"tokens": tokens, "tags": ["O"] * len(tokens)}) + "\n")
    print(f"branches the shots name: {sorted(t for t in seen if t[0] in letters)}")
    print(f"held out: {sum(held.values())} silver mentions of {len(held)} names; {held.most_common(20)}")


def agreement(out):
    scores = [json.loads(line) for line in open(f"{out}/scores.jsonl")]
    spans = [json.loads(line) for line in open(f"{out}/spans.jsonl")]
    pool = [json.loads(line) for line in open(f"{out}/pool.jsonl")]
    per_name, per_branch, label_of = collections.defaultdict(list), collections.defaultdict(list), {}
    for s, m, x in zip(scores, spans, pool):
        for a, b, label, br in m:
            p = min(math.exp(s["log_probs"][i][s["labels"].index(("B-" if i == a else "I-") + label)])
                    for i in range(a, b))
            name = " ".join(x["tokens"][a:b]).lower()
            per_name[name].append(p)
            label_of[name] = label
            for t in br:
                per_branch[t].append(p)
    return per_name, per_branch, label_of


def score(out, threshold, gold_path=None, dictionary_path=None):
    per_name, per_branch, label_of = agreement(out)
    print("branch: held-out silver mentions, mean probability of the dictionary's label")
    for t, v in sorted(per_branch.items()):
        print(f"  {t}: {len(v):4d} {sum(v) / len(v):.2f}")
    drop = {n for n, v in per_name.items() if sum(v) / len(v) < threshold}
    print(f"names below {threshold}: {len(drop)} of {len(per_name)}")
    top = sorted(per_name.items(), key=lambda kv: -len(kv[1]))[:30]
    print("  " + ", ".join(f"{n} {sum(v) / len(v):.2f}" for n, v in top))
    if gold_path and dictionary_path:
        bd = backoff_dev()
        gold, dic = bd.gold_sentences(gold_path), bd.tsv_tags(dictionary_path)
        before, after = [0, 0, 0], [0, 0, 0]
        lost = collections.Counter()
        for g, d in zip(gold, dic):
            ge, de = bd.entities(g["tags"]), bd.entities(d)
            kept = {e for e in de if not (" ".join(g["tokens"][e[0]:e[1]]).lower() in drop
                                          and label_of[" ".join(g["tokens"][e[0]:e[1]]).lower()] == e[2])}
            for e in (de - kept) & ge:
                lost[" ".join(g["tokens"][e[0]:e[1]]).lower()] += 1
            for c, pred in ((before, de), (after, kept)):
                c[0] += len(pred & ge)
                c[1] += len(pred - ge)
                c[2] += len(ge - pred)
        for name, c in (("dictionary", before), ("without the names", after)):
            f1, p, r = bd.prf(c)
            print(f"{name:20s} F1 {f1:6.2f}  P {p:5.1f}  R {r:5.1f}")
        removed = (before[1] - after[1], before[0] - after[0])
        print(f"removed {removed[0]} false and {removed[1]} true positives; true ones lost: {lost.most_common(8)}")


def main():
    args = sys.argv[1:]
    opt = {}
    for k in ("--gold", "--dictionary", "--threshold", "--letters"):
        if k in args:
            i = args.index(k)
            opt[k] = args[i + 1]
            del args[i:i + 2]
    if args[:1] == ["prepare"] and len(args) == 5:
        prepare(*args[1:], only=opt.get("--letters"))
    elif args[:1] == ["score"] and len(args) == 2:
        score(args[1], float(opt.get("--threshold", 0.5)), opt.get("--gold"), opt.get("--dictionary"))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
