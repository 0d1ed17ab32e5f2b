"""Independent reference for an exported hilgen tagger: BertForTokenClassification's forward
pass written with numpy (the encoder of bert_numpy.py, then the classifier), reading the folder
by transformers' names (`bert.` prefix, `classifier.weight` / `classifier.bias`).

    pip install numpy scipy safetensors tokenizers
    python3 crates/hilgen-models/tests/reference/tagger_numpy.py crates/hilgen-models/tests/reference/tiny_tagger \
        > crates/hilgen-models/tests/reference/tiny_tagger_reference.json

Writes, per sentence, the words, the sub-word ids ([CLS] ... [SEP], from the folder's
tokenizer.json with the `tokenizers` package) and the logits (8 significant digits).
"""
import json
import os
import sys

import numpy as np
from safetensors.numpy import load_file
from tokenizers import Tokenizer

sys.path.insert(0, os.path.dirname(__file__))
from bert_numpy import forward  # noqa: E402

SENTENCES = [
    "Cisplatin induced acute renal failure in rats .".split(),
    "Naloxone reverses the hypotension of clonidine .".split(),
    "Patients on lithium and aspirin developed tremor .".split(),
]


def logits(folder, words):
    cfg = json.load(open(f"{folder}/config.json"))
    all_tensors = load_file(f"{folder}/model.safetensors")
    encoder = {k.removeprefix("bert."): v for k, v in all_tensors.items() if k.startswith("bert.")}
    tok = Tokenizer.from_file(f"{folder}/tokenizer.json")
    tok.no_truncation()
    tok.no_padding()
    cls, sep = tok.token_to_id("[CLS]"), tok.token_to_id("[SEP]")
    enc = tok.encode(words, is_pretokenized=True, add_special_tokens=False)
    ids = [cls] + enc.ids + [sep]
    hidden = forward(encoder, cfg, np.array(ids))
    out = hidden @ all_tensors["classifier.weight"].astype(np.float64).T + all_tensors["classifier.bias"].astype(np.float64)
    return ids, out, enc.word_ids


def main():
    folder = sys.argv[1]
    out = []
    for words in SENTENCES:
        ids, lg, _ = logits(folder, words)
        out.append({"words": words, "ids": ids, "logits": [[float(f"{v:.8g}") for v in row] for row in lg]})
    json.dump({"model": os.path.basename(folder.rstrip("/")), "sentences": out}, sys.stdout, separators=(",", ":"))


if __name__ == "__main__":
    main()
