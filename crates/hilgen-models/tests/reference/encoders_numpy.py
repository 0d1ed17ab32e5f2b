"""Independent reference for the Rust RoBERTa and MPNet encoders: their forward passes written
with numpy (float64), reading model.safetensors by transformers' tensor names.

Two modes:

    # the committed fixtures: a tiny random RoBERTa and a tiny random MPNet (seeded), their
    # weights, and the hidden states of a few id sequences
    python3 encoders_numpy.py tiny crates/hilgen-models/tests/reference

    # a real folder (all-mpnet-base-v2 from `cargo xtask setup --encoder mpnet`): the sub-word
    # ids of three sentences from the `tokenizers` package and their last hidden states
    python3 encoders_numpy.py folder ~/.cache/hilgen/models/all-mpnet-base-v2 > mpnet_reference.json

Needs numpy, scipy, safetensors, tokenizers (pip install numpy scipy safetensors tokenizers).
"""
import json
import math
import os
import sys

import numpy as np
from scipy.special import erf


SENTENCES = [
    "Naloxone reverses the antihypertensive effect of clonidine .".split(),
    "Cisplatin - induced acute renal failure in a 52 - year - old man".split(),
    ["BRCA1", "mutations", "and", "triple-negative", "breast", "cancer"],
]


def layer_norm(x, w, b, eps):
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * w + b


def gelu(h):
    return 0.5 * h * (1.0 + erf(h / np.sqrt(2.0)))


def softmax(s):
    s = np.exp(s - s.max(-1, keepdims=True))
    return s / s.sum(-1, keepdims=True)


def relative_bucket(n_query, num_buckets, max_distance=128):
    """Bucket [q, k] of each query/key distance (MPNet's T5-style buckets; the log in float32
    as PyTorch computes it)."""
    pos = np.arange(n_query)
    relative = pos[None, :] - pos[:, None]  # key - query
    n = -relative
    half = num_buckets // 2
    ret = (n < 0).astype(np.int64) * half
    n = np.abs(n)
    max_exact = half // 2
    with np.errstate(divide="ignore", invalid="ignore"):  # distance 0: unused
        large = np.log(n.astype(np.float32) / np.float32(max_exact)) / np.float32(math.log(max_distance / max_exact))
        large = max_exact + (large * np.float32(half - max_exact)).astype(np.int64)
    large = np.minimum(large, half - 1)
    return ret + np.where(n < max_exact, n, large)


def forward(t, cfg, ids):
    """Last hidden states [len, hidden] of one unpadded id sequence."""
    g = lambda name: t[name].astype(np.float64)
    kind = cfg["model_type"]
    n = len(ids)
    positions = np.arange(n) + cfg["pad_token_id"] + 1
    x = g("embeddings.word_embeddings.weight")[ids] + g("embeddings.position_embeddings.weight")[positions]
    if kind == "roberta":
        x = x + g("embeddings.token_type_embeddings.weight")[0]
    eps = cfg["layer_norm_eps"]
    x = layer_norm(x, g("embeddings.LayerNorm.weight"), g("embeddings.LayerNorm.bias"), eps)
    heads = cfg["num_attention_heads"]
    dh = cfg["hidden_size"] // heads
    bias = 0.0
    if kind == "mpnet":
        buckets = relative_bucket(n, cfg.get("relative_attention_num_buckets", 32))
        bias = g("encoder.relative_attention_bias.weight")[buckets].transpose(2, 0, 1)  # [heads, q, k]
    names = {
        "roberta": ("attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense", "attention.output.LayerNorm"),
        "mpnet": ("attention.attn.q", "attention.attn.k", "attention.attn.v", "attention.attn.o", "attention.LayerNorm"),
    }[kind]
    for i in range(cfg["num_hidden_layers"]):
        p = f"encoder.layer.{i}."
        lin = lambda y, name: y @ g(p + name + ".weight").T + g(p + name + ".bias")
        q, k, v = (lin(x, m).reshape(n, heads, dh).transpose(1, 0, 2) for m in names[:3])
        s = softmax(q @ k.transpose(0, 2, 1) / np.sqrt(dh) + bias)
        ctx = (s @ v).transpose(1, 0, 2).reshape(n, -1)
        a = layer_norm(lin(ctx, names[3]) + x, g(p + names[4] + ".weight"), g(p + names[4] + ".bias"), eps)
        h = gelu(lin(a, "intermediate.dense"))
        x = layer_norm(lin(h, "output.dense") + a, g(p + "output.LayerNorm.weight"), g(p + "output.LayerNorm.bias"), eps)
    return x


def rounded(hidden, digits=7):
    return [[float(f"{v:.{digits}g}") for v in row] for row in hidden]


def tiny(out_dir):
    from safetensors.numpy import save_file

    rng = np.random.default_rng(20261202)
    common = {
        "vocab_size": 60, "hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 4,
        "intermediate_size": 64, "hidden_act": "gelu", "max_position_embeddings": 40,
        "layer_norm_eps": 1e-5, "pad_token_id": 1, "bos_token_id": 0, "eos_token_id": 2,
    }
    # Lengths up to 30 reach the logarithmic buckets (distances 8 and more).
    sequences = [
        [0] + list(rng.integers(5, 60, 28)) + [2],
        [0] + list(rng.integers(5, 60, 11)) + [2],
        [0, 7, 2],
    ]
    sequences = [[int(i) for i in s] for s in sequences]
    for kind in ["roberta", "mpnet"]:
        cfg = dict(common, model_type=kind)
        h, f = cfg["hidden_size"], cfg["intermediate_size"]
        w = {}
        norm = lambda *shape: rng.normal(0.0, 0.3, shape).astype(np.float32)
        w["embeddings.word_embeddings.weight"] = norm(cfg["vocab_size"], h)
        w["embeddings.position_embeddings.weight"] = norm(cfg["max_position_embeddings"], h)
        if kind == "roberta":
            cfg["type_vocab_size"] = 1
            w["embeddings.token_type_embeddings.weight"] = norm(1, h)
            names = ["attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense"]
            ln = "attention.output.LayerNorm"
        else:
            cfg["relative_attention_num_buckets"] = 32
            w["encoder.relative_attention_bias.weight"] = rng.normal(0.0, 1.0, (32, cfg["num_attention_heads"])).astype(np.float32)
            names = ["attention.attn.q", "attention.attn.k", "attention.attn.v", "attention.attn.o"]
            ln = "attention.LayerNorm"
        w["embeddings.LayerNorm.weight"] = 1.0 + norm(h)
        w["embeddings.LayerNorm.bias"] = norm(h)
        for i in range(cfg["num_hidden_layers"]):
            p = f"encoder.layer.{i}."
            for m in names:
                w[p + m + ".weight"] = norm(h, h)
                w[p + m + ".bias"] = norm(h)
            for m in [ln, "output.LayerNorm"]:
                w[p + m + ".weight"] = 1.0 + norm(h)
                w[p + m + ".bias"] = norm(h)
            w[p + "intermediate.dense.weight"] = norm(f, h)
            w[p + "intermediate.dense.bias"] = norm(f)
            w[p + "output.dense.weight"] = norm(h, f)
            w[p + "output.dense.bias"] = norm(h)
        folder = os.path.join(out_dir, f"tiny_{kind}")
        os.makedirs(folder, exist_ok=True)
        # The checkpoint as transformers names it (with the family's prefix).
        save_file({f"{kind}.{k}": v for k, v in w.items()}, os.path.join(folder, "model.safetensors"))
        with open(os.path.join(folder, "config.json"), "w") as fh:
            json.dump(dict(cfg, architectures=[{"roberta": "RobertaModel", "mpnet": "MPNetModel"}[kind]]), fh, indent=1)
        out = [{"ids": s, "hidden": rounded(forward(w, cfg, np.array(s)))} for s in sequences]
        with open(os.path.join(out_dir, f"tiny_{kind}_reference.json"), "w") as fh:
            json.dump({"model": f"tiny random {kind}", "sequences": out}, fh, separators=(",", ":"))


def folder(path):
    from safetensors.numpy import load_file
    from tokenizers import Tokenizer

    cfg = json.load(open(os.path.join(path, "config.json")))
    prefix = cfg["model_type"] + "."
    tensors = {k.removeprefix(prefix): v for k, v in load_file(os.path.join(path, "model.safetensors")).items()}
    tok = Tokenizer.from_file(os.path.join(path, "tokenizer.json"))
    tok.no_truncation()
    tok.no_padding()
    special = json.load(open(os.path.join(path, "tokenizer_config.json")))
    cls, sep = tok.token_to_id(special["cls_token"]), tok.token_to_id(special["sep_token"])
    out = []
    for words in SENTENCES:
        enc = tok.encode(words, is_pretokenized=True, add_special_tokens=False)
        ids = [cls] + enc.ids + [sep]
        out.append({"words": words, "ids": ids, "hidden": rounded(forward(tensors, cfg, np.array(ids)), 6)})
    json.dump({"model": os.path.basename(os.path.normpath(path)), "sentences": out}, sys.stdout, separators=(",", ":"))


if __name__ == "__main__":
    {"tiny": tiny, "folder": folder}[sys.argv[1]](sys.argv[2])
