"""Loads a model folder written by `hilgen train` (or a run's seed-S/best/model) with
transformers' AutoModelForTokenClassification and checks that its logits are those of the
numpy reference (tagger_numpy.py) and, with --scores, the per-word log-probabilities that
`hilgen tag --scores` wrote for the same sentences.

Given a kept system (a run's seed-S/kept/system or kept/system, `hilgen fewshot`'s
OUT/kept/system), it also reads the model card (README.md) with huggingface_hub's card parser
(a dependency of transformers), checks its metadata (pipeline tag, library, the model-index's
dev and test figures against system.json), and checks each model folder in it as above.

    python3 -m venv /tmp/pyenv && /tmp/pyenv/bin/pip install torch==2.13.0 transformers numpy scipy safetensors tokenizers
    /tmp/pyenv/bin/python crates/hilgen-models/tests/reference/check_transformers.py MODEL_DIR [--scores scores.jsonl]

Exits 1 when a difference exceeds 1e-4.
"""
import argparse
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))

TOLERANCE = 1e-4


def check_card(folder):
    """The kept system's card, read by huggingface_hub as the Hub reads it."""
    from huggingface_hub import ModelCard

    system = json.load(open(os.path.join(folder, "system.json")))
    card = ModelCard.load(os.path.join(folder, "README.md"))
    data = card.data
    problems = []
    if data.pipeline_tag != "token-classification":
        problems.append(f"pipeline_tag {data.pipeline_tag!r}")
    if data.library_name != "hilgen":
        problems.append(f"library_name {data.library_name!r}")
    want = {}
    for split in ("dev", "test"):
        prf = system["card"].get(split)
        if prf:
            want[split] = round(100 * prf["f1"], 1)
    got = {}
    for r in data.eval_results or []:
        if r.metric_type == "f1":
            got[r.dataset_split] = r.metric_value
    if got != want:
        problems.append(f"model-index F1 {got} against system.json {want}")
    print(f"{folder}: card read by huggingface_hub: {system['description']}; F1 {got}; {len(card.text)} characters of text")
    for p in problems:
        print(f"FAILED: {p}")
    return not problems


def model_folders(system):
    """The model folders a kept system's components read."""
    if system.get("type") in ("tagger", "dann"):
        return [system["model"]]
    return [m for member in system.get("members", []) for m in model_folders(member)]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model", help="a model folder, or a kept system (its card and each of its models)")
    ap.add_argument("--scores", help="JSON Lines from `hilgen tag --scores` over the same sentences")
    ap.add_argument("--card-only", action="store_true", help="a kept system's card only (no torch needed)")
    args = ap.parse_args()
    manifest = os.path.join(args.model, "system.json")
    if os.path.exists(manifest) and "format" in json.load(open(manifest)):
        ok = check_card(args.model)
        system = json.load(open(manifest))["system"]
        for m in [] if args.card_only else sorted(set(model_folders(system))):
            folder = os.path.normpath(os.path.join(args.model, m))
            print(f"model {folder}:")
            ok = check_model(folder, None) and ok
        sys.exit(0 if ok else 1)
    sys.exit(0 if check_model(args.model, args.scores) else 1)


def check_model(folder, scores):
    # Imported here: a kept system's card is checked with huggingface_hub alone.
    import torch
    from transformers import AutoModelForTokenClassification
    from tagger_numpy import SENTENCES, logits as numpy_logits

    class Args:
        pass

    args = Args()
    args.model, args.scores = folder, scores
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
        return False
    print("OK")
    return True


if __name__ == "__main__":
    main()
