"""Loads a model folder written by `hilgen train` (or a run's seed-S/best/model) with
transformers' AutoModelForTokenClassification and checks that its logits are those of the
numpy reference (tagger_numpy.py) and, with --scores, the per-word log-probabilities that
`hilgen tag --scores` wrote for the same sentences.

    python3 -m venv /tmp/pyenv && /tmp/pyenv/bin/pip install torch==2.13.0 transformers numpy scipy safetensors tokenizers
    /tmp/pyenv/bin/python crates/hilgen-models/tests/reference/check_transformers.py MODEL_DIR [--scores scores.jsonl]

Exits 1 when a difference exceeds 1e-4.
"""
import argparse
import json
import os
import sys

import numpy as np
import torch
from transformers import AutoModelForTokenClassification

sys.path.insert(0, os.path.dirname(__file__))
from tagger_numpy import SENTENCES, logits as numpy_logits  # noqa: E402

TOLERANCE = 1e-4


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("--scores", help="JSON Lines from `hilgen tag --scores` over the same sentences")
    args = ap.parse_args()
    model = AutoModelForTokenClassification.from_pretrained(args.model)
    model.eval()
    print(f"loaded {type(model).__name__} with labels {model.config.id2label}")
    worst_numpy = worst_hilgen = 0.0
    sentences = SENTENCES
    hilgen = None
    if args.scores:
        hilgen = [json.loads(l) for l in open(args.scores)]
        sentences = [h["tokens"] for h in hilgen]
    for k, words in enumerate(sentences):
        ids, ref, word_ids = numpy_logits(args.model, words)
        with torch.no_grad():
            out = model(input_ids=torch.tensor([ids]), attention_mask=torch.ones(1, len(ids), dtype=torch.long))
        lg = out.logits[0].double().numpy()
        worst_numpy = max(worst_numpy, float(np.abs(lg - ref).max()))
        if hilgen is not None:
            # hilgen predicts each word from its first sub-word: log-softmax there.
            firsts = {}
            for pos, w in enumerate(word_ids):
                if w is not None and w not in firsts:
                    firsts[w] = pos + 1  # after [CLS]
            lp = torch.log_softmax(out.logits[0], -1).double().numpy()
            want = np.array([lp[firsts[w]] for w in range(len(words))])
            got = np.array(hilgen[k]["log_probs"], dtype=np.float64)
            worst_hilgen = max(worst_hilgen, float(np.abs(want - got).max()))
    print(f"{len(sentences)} sentences: largest |transformers - numpy| logit difference {worst_numpy:.3e}")
    if hilgen is not None:
        print(f"largest |transformers - hilgen tag| log-probability difference {worst_hilgen:.3e}")
    if max(worst_numpy, worst_hilgen) > TOLERANCE:
        print(f"FAILED: above {TOLERANCE}")
        sys.exit(1)
    print("OK")


if __name__ == "__main__":
    main()
