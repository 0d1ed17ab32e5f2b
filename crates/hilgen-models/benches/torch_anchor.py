"""PyTorch eager anchor for `cargo bench -p hilgen-models --bench throughput`: the same
token classifier on all-MiniLM-L6-v2 (or `HILGEN_BENCH_ENCODER`: all-mpnet-base-v2, a
RoBERTa) (transformers' AutoModel + dropout + linear head, AdamW with
no decay on bias/LayerNorm, clipping 1.0), the same BC5CDR sentences (20-30 words, the first
512 of train), the same batch sizes, threads and length-sorted batches; tokens per second for
training and inference. HILGEN_BENCH_PRECISION=bf16 runs the model under
torch.autocast(dtype=torch.bfloat16), as hilgen's `precision = "bf16"` computes.

    python -m venv /tmp/torchenv && /tmp/torchenv/bin/pip install torch==2.13.0 transformers
    HILGEN_ENCODER=... HILGEN_DATA=... /tmp/torchenv/bin/python crates/hilgen-models/benches/torch_anchor.py
    (HILGEN_BENCH_DEVICE=cuda on a GPU)
"""
import json
import os
import time

import torch
from transformers import AutoConfig, AutoModel, AutoTokenizer

threads = int(os.environ.get("HILGEN_THREADS", "2"))
torch.set_num_threads(threads)
torch.manual_seed(1)
enc_dir = os.environ.get("HILGEN_BENCH_ENCODER") or os.environ["HILGEN_ENCODER"]
device = torch.device(os.environ.get("HILGEN_BENCH_DEVICE", "cpu"))
data = os.environ["HILGEN_DATA"]
precision = os.environ.get("HILGEN_BENCH_PRECISION", "f32")
assert precision in ("f32", "bf16"), f"HILGEN_BENCH_PRECISION={precision}: expected f32 or bf16"


def autocast():
    return torch.autocast(device.type, dtype=torch.bfloat16, enabled=precision == "bf16")


def read(path):
    sents, cur = [], []
    for line in open(path, encoding="utf-8"):
        line = line.rstrip("\n")
        if not line:
            if cur:
                sents.append(cur)
            cur = []
            continue
        tok, tag = line.split("\t")
        cur.append((tok, tag))
    return sents


pool = [s for s in read(os.path.join(data, "bc5cdr/iob/train.tsv")) if 20 <= len(s) <= 30][:512]
labels = ["O"] + sorted({t for s in pool for _, t in s if t != "O"})
kind = AutoConfig.from_pretrained(enc_dir).model_type
tok = AutoTokenizer.from_pretrained(enc_dir, **({"add_prefix_space": True} if kind == "roberta" else {}))


def encode(sents):
    out = []
    for s in sents:
        e = tok([w for w, _ in s], is_split_into_words=True, truncation=True, max_length=128)
        ids = e["input_ids"]
        lab = [-100] * len(ids)
        seen = set()
        for i, w in enumerate(e.word_ids()):
            if w is not None and w not in seen:
                seen.add(w)
                lab[i] = labels.index(s[w][1])
        out.append((ids, lab))
    return out


def batches(examples, size):
    order = sorted(range(len(examples)), key=lambda i: len(examples[i][0]))
    for k in range(0, len(order), size):
        chunk = [examples[i] for i in order[k:k + size]]
        t = max(len(c[0]) for c in chunk)
        ids = torch.tensor([c[0] + [tok.pad_token_id] * (t - len(c[0])) for c in chunk])
        mask = torch.tensor([[1] * len(c[0]) + [0] * (t - len(c[0])) for c in chunk])
        lab = torch.tensor([c[1] + [-100] * (t - len(c[1])) for c in chunk])
        yield ids.to(device), mask.to(device), lab.to(device)


class Tagger(torch.nn.Module):
    def __init__(self):
        super().__init__()
        # SDPA where transformers has it for the family (BERT, RoBERTa); MPNet's is eager.
        extra = {"attn_implementation": "sdpa"} if kind in ("bert", "roberta") else {}
        self.bert = AutoModel.from_pretrained(enc_dir, add_pooling_layer=False, **extra)
        self.drop = torch.nn.Dropout(0.1)
        self.head = torch.nn.Linear(self.bert.config.hidden_size, len(labels))

    def forward(self, ids, mask):
        return self.head(self.drop(self.bert(input_ids=ids, attention_mask=mask).last_hidden_state))


examples = encode(pool)
results = []
for size in (8, 32):
    model = Tagger().to(device)
    decay = [p for n, p in model.named_parameters() if not (n.endswith("bias") or "LayerNorm" in n)]
    no_decay = [p for n, p in model.named_parameters() if n.endswith("bias") or "LayerNorm" in n]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.01}, {"params": no_decay, "weight_decay": 0.0}], lr=5e-5)
    subset = examples[: size * 12]

    def epoch(data):
        model.train()
        tokens = 0
        for ids, mask, lab in batches(data, size):
            with autocast():
                logits = model(ids, mask)
            loss = torch.nn.functional.cross_entropy(logits.float().view(-1, len(labels)), lab.view(-1), ignore_index=-100)
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            tokens += int(mask.sum())
        if device.type == "cuda":
            torch.cuda.synchronize()
        return tokens

    epoch(subset[:size])  # warm-up
    t = time.perf_counter()
    tokens = epoch(subset)
    train_tps = tokens / (time.perf_counter() - t)
    model.eval()
    t = time.perf_counter()
    tokens = 0
    with torch.no_grad(), autocast():
        for ids, mask, _ in batches(examples, size * 2):
            model(ids, mask)
            tokens += int(mask.sum())
    if device.type == "cuda":
        torch.cuda.synchronize()
    infer_tps = tokens / (time.perf_counter() - t)
    results.append({"batch": size, "train_tokens_per_s": round(train_tps), "infer_tokens_per_s": round(infer_tps)})
print(json.dumps({"encoder": os.path.basename(os.path.realpath(enc_dir)), "device": str(device), "precision": precision, "threads": threads, "sentences": len(pool), "results": results}))
