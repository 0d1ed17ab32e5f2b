"""Checks the numpy reference of encoders_numpy.py against transformers itself: the committed
tiny RoBERTa and MPNet fixtures (and, given a folder, a real checkpoint such as
all-mpnet-base-v2) are loaded with AutoModel and run on the same ids; exits 1 when a hidden
value differs by more than 1e-4 from the numpy forward pass.

    /tmp/pyenv/bin/pip install torch==2.13.0 transformers numpy scipy safetensors tokenizers
    /tmp/pyenv/bin/python crates/hilgen-models/tests/reference/check_encoders_transformers.py [FOLDER]

With `--taggers DIR...` it loads taggers saved by hilgen (`HILGEN_FAMILY_EXPORT=/tmp/fam cargo
test -p hilgen-models --test families` leaves a RoBERTa and an MPNet one in /tmp/fam/) with
AutoModelForTokenClassification and compares their logits with the ones hilgen computed
(`hilgen_logits.json` beside each).
"""
import json
import os
import sys

import numpy as np
import torch
from safetensors.numpy import load_file
from transformers import AutoModel, AutoModelForTokenClassification

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from encoders_numpy import forward  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))


def check(folder, sequences):
    cfg = json.load(open(os.path.join(folder, "config.json")))
    prefix = cfg["model_type"] + "."
    tensors = {k.removeprefix(prefix): v for k, v in load_file(os.path.join(folder, "model.safetensors")).items()}
    model = AutoModel.from_pretrained(folder, add_pooling_layer=False)
    model.eval()
    worst = 0.0
    for ids in sequences:
        with torch.no_grad():
            got = model(input_ids=torch.tensor([ids])).last_hidden_state[0].double().numpy()
        worst = max(worst, float(np.abs(got - forward(tensors, cfg, np.array(ids))).max()))
    print(f"{folder}: {type(model).__name__}, largest difference from numpy {worst:.2e}")
    return worst


def check_tagger(folder):
    want = json.load(open(os.path.join(folder, "hilgen_logits.json")))
    model = AutoModelForTokenClassification.from_pretrained(folder)
    model.eval()
    with torch.no_grad():
        got = model(input_ids=torch.tensor([want["ids"]])).logits[0].double().numpy()
    worst = float(np.abs(got - np.array(want["logits"])).max())
    print(f"{folder}: {type(model).__name__}, labels {list(model.config.id2label.values())}, largest difference from hilgen {worst:.2e}")
    return worst


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--taggers":
        worst = max(check_tagger(f) for f in sys.argv[2:])
        sys.exit(0 if worst <= 1e-4 else 1)
    worst = 0.0
    for kind in ["roberta", "mpnet"]:
        ref = json.load(open(os.path.join(HERE, f"tiny_{kind}_reference.json")))
        worst = max(worst, check(os.path.join(HERE, f"tiny_{kind}"), [s["ids"] for s in ref["sequences"]]))
    if len(sys.argv) > 1:
        rng = np.random.default_rng(1)
        ids = [[0] + [int(i) for i in rng.integers(1000, 30000, n)] + [2] for n in (5, 40, 200)]
        worst = max(worst, check(sys.argv[1], ids))
    sys.exit(0 if worst <= 1e-4 else 1)


if __name__ == "__main__":
    main()
