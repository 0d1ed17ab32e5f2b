"""Independent reference for the Rust BERT encoder: the BERT forward pass written with numpy,
reading the same model.safetensors, on a few pre-tokenized sentences.

    pip install numpy scipy safetensors tokenizers
    python3 crates/hilgen-models/tests/reference/bert_numpy.py ~/.cache/hilgen/models/all-MiniLM-L6-v2-gt0.1.0 \
        > crates/hilgen-models/tests/reference/minilm_reference.json

Writes, per sentence, the words, the sub-word ids (from the `tokenizers` package, [CLS] ... [SEP])
and the last hidden states (6 significant digits).
"""
import json
import sys

import numpy as np
from safetensors.numpy import load_file
from scipy.special import erf
from tokenizers import Tokenizer

SENTENCES = [
    "Naloxone reverses the antihypertensive effect of clonidine .".split(),
    "Cisplatin - induced acute renal failure in a 52 - year - old man".split(),
    ["BRCA1", "mutations", "and", "triple-negative", "breast", "cancer"],
]


def layer_norm(x, w, b, eps):
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * w + b


def forward(t, cfg, ids):
    g = lambda name: t[name].astype(np.float64)
    n = len(ids)
    x = g("embeddings.word_embeddings.weight")[ids] + g("embeddings.position_embeddings.weight")[:n] + g("embeddings.token_type_embeddings.weight")[0]
    x = layer_norm(x, g("embeddings.LayerNorm.weight"), g("embeddings.LayerNorm.bias"), cfg["layer_norm_eps"])
    heads = cfg["num_attention_heads"]
    dh = cfg["hidden_size"] // heads
    for i in range(cfg["num_hidden_layers"]):
        p = f"encoder.layer.{i}."
        lin = lambda y, name: y @ g(p + name + ".weight").T + g(p + name + ".bias")
        q, k, v = (lin(x, "attention.self." + m).reshape(n, heads, dh).transpose(1, 0, 2) for m in ("query", "key", "value"))
        s = q @ k.transpose(0, 2, 1) / np.sqrt(dh)
        s = np.exp(s - s.max(-1, keepdims=True))
        s = s / s.sum(-1, keepdims=True)
        ctx = (s @ v).transpose(1, 0, 2).reshape(n, -1)
        a = layer_norm(lin(ctx, "attention.output.dense") + x, g(p + "attention.output.LayerNorm.weight"), g(p + "attention.output.LayerNorm.bias"), cfg["layer_norm_eps"])
        h = lin(a, "intermediate.dense")
        h = 0.5 * h * (1.0 + erf(h / np.sqrt(2.0)))
        x = layer_norm(lin(h, "output.dense") + a, g(p + "output.LayerNorm.weight"), g(p + "output.LayerNorm.bias"), cfg["layer_norm_eps"])
    return x


def main():
    folder = sys.argv[1]
    cfg = json.load(open(f"{folder}/config.json"))
    tensors = {k.removeprefix("bert."): v for k, v in load_file(f"{folder}/model.safetensors").items()}
    tok = Tokenizer.from_file(f"{folder}/tokenizer.json")
    tok.no_truncation()
    tok.no_padding()
    cls, sep = tok.token_to_id("[CLS]"), tok.token_to_id("[SEP]")
    out = []
    for words in SENTENCES:
        enc = tok.encode(words, is_pretokenized=True, add_special_tokens=False)
        ids = [cls] + enc.ids + [sep]
        hidden = forward(tensors, cfg, np.array(ids))
        out.append({"words": words, "ids": ids, "hidden": [[float(f"{v:.6g}") for v in row] for row in hidden]})
    json.dump({"model": "all-MiniLM-L6-v2", "sentences": out}, sys.stdout, separators=(",", ":"))


if __name__ == "__main__":
    main()
