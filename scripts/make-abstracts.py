#!/usr/bin/env python3
"""Writes N PubTator abstracts (titles and abstracts only, annotations dropped) made from the
shared corpora's PubTator files, repeated with fresh ids, for measuring `hilgen tag` at scale.

Usage: scripts/make-abstracts.py N OUT  (reads $HILGEN_DATA, default ../shared/data)
"""
import os
import sys

n, out = int(sys.argv[1]), sys.argv[2]
data = os.environ.get("HILGEN_DATA", os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data"))
files = [
    "bc5cdr/pubtator/CDR_TrainingSet.PubTator.txt",
    "bc5cdr/pubtator/CDR_DevelopmentSet.PubTator.txt",
    "bc5cdr/pubtator/CDR_TestSet.PubTator.txt",
    "ncbi-disease/pubtator/NCBItrainset_corpus.txt",
    "ncbi-disease/pubtator/NCBIdevelopset_corpus.txt",
    "ncbi-disease/pubtator/NCBItestset_corpus.txt",
]
docs = []
for f in files:
    title = None
    for line in open(os.path.join(data, f), encoding="utf-8"):
        parts = line.rstrip("\n").split("|", 2)
        if len(parts) == 3 and parts[1] == "t":
            title = parts[2]
        elif len(parts) == 3 and parts[1] == "a" and title is not None:
            docs.append((title, parts[2]))
            title = None
with open(out, "w", encoding="utf-8") as w:
    for i in range(n):
        t, a = docs[i % len(docs)]
        w.write(f"{i + 1}|t|{t}\n{i + 1}|a|{a}\n\n")
print(f"{n} abstracts from {len(docs)} distinct ones -> {out}", file=sys.stderr)
