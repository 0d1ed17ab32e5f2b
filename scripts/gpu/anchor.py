# PyTorch + transformers anchor mirroring `hilgen train` / `hilgen tag` defaults on the same files:
# AutoModel + dropout 0.1 + linear head, first sub-token labelled, max_length 128, length-bucketed
# shuffled batches, AdamW (lr 5e-5, wd 0.01 off bias/LayerNorm), linear warm-up 10%, clip 1.0,
# torch.autocast(bf16) for bf16. Prints tokens/s of the epoch loop and of inference.
# Optional 7th argument PAD: pad each batch's length to a multiple of PAD (default 1: as is).
import sys, time, random, torch
from transformers import AutoModel, AutoTokenizer
enc, train_f, test_f, prec, epochs, bs = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]), int(sys.argv[6])
pad = int(sys.argv[7]) if len(sys.argv) > 7 else 1
dev = torch.device("cuda"); torch.manual_seed(1); random.seed(1)
def read(p):
    out, cur = [], []
    for line in open(p, encoding="utf-8"):
        line = line.rstrip("\n")
        if not line:
            if cur: out.append(cur)
            cur = []; continue
        t, g = line.split("\t")[:2]; cur.append((t, g))
    if cur: out.append(cur)
    return out
tr, te = read(train_f), read(test_f)
labels = ["O"] + sorted({g for s in tr for _, g in s if g != "O"}); l2i = {l: i for i, l in enumerate(labels)}
tok = AutoTokenizer.from_pretrained(enc)
def encode(ss):
    e = tok([[w for w, _ in s] for s in ss], is_split_into_words=True, truncation=True, max_length=128)
    out = []
    for k, s in enumerate(ss):
        ids = e["input_ids"][k]; lab = [-100] * len(ids); seen = set()
        for j, w in enumerate(e.word_ids(k)):
            if w is not None and w not in seen: seen.add(w); lab[j] = l2i.get(s[w][1], 0)
        out.append((ids, lab))
    return out
def batches(ex, size, shuffle):
    order = sorted(range(len(ex)), key=lambda i: len(ex[i][0]))
    chunks = [order[k:k + size] for k in range(0, len(order), size)]
    if shuffle: random.shuffle(chunks)
    for c in chunks:
        t = max(len(ex[i][0]) for i in c); t = -(-t // pad) * pad
        ids = torch.tensor([ex[i][0] + [0] * (t - len(ex[i][0])) for i in c])
        m = torch.tensor([[1] * len(ex[i][0]) + [0] * (t - len(ex[i][0])) for i in c])
        lab = torch.tensor([ex[i][1] + [-100] * (t - len(ex[i][1])) for i in c])
        yield ids.to(dev, non_blocking=True), m.to(dev, non_blocking=True), lab.to(dev, non_blocking=True)
class Tagger(torch.nn.Module):
    def __init__(s):
        super().__init__(); s.enc = AutoModel.from_pretrained(enc); s.drop = torch.nn.Dropout(0.1)
        s.head = torch.nn.Linear(s.enc.config.hidden_size, len(labels))
    def forward(s, ids, m): return s.head(s.drop(s.enc(input_ids=ids, attention_mask=m).last_hidden_state))
t0 = time.perf_counter()
model = Tagger().to(dev)
ac = lambda: torch.autocast("cuda", dtype=torch.bfloat16, enabled=prec == "bf16")
trx, tex = encode(tr), encode(te)
nd = ["bias", "LayerNorm.weight", "LayerNorm.bias"]
params = [{"params": [p for n, p in model.named_parameters() if not any(x in n for x in nd)], "weight_decay": 0.01},
          {"params": [p for n, p in model.named_parameters() if any(x in n for x in nd)], "weight_decay": 0.0}]
opt = torch.optim.AdamW(params, lr=5e-5)
steps = epochs * ((len(trx) + bs - 1) // bs); warm = int(0.1 * steps)
sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: (s + 1) / max(1, warm) if s < warm else max(0.0, (steps - s) / max(1, steps - warm)))
lossf = torch.nn.CrossEntropyLoss(ignore_index=-100)
torch.cuda.synchronize(); setup = time.perf_counter() - t0
model.train(); ntok = 0; t1 = time.perf_counter()
for ep in range(epochs):
    for ids, m, lab in batches(trx, bs, True):
        with ac():
            logits = model(ids, m)
        loss = lossf(logits.float().view(-1, len(labels)), lab.view(-1))
        loss.backward(); torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step(); sched.step(); opt.zero_grad(set_to_none=True); ntok += int(m.sum())
torch.cuda.synchronize(); dt = time.perf_counter() - t1
model.eval(); itok = 0; t2 = time.perf_counter()
with torch.inference_mode():
    for ids, m, _ in batches(tex, 64, False):
        with ac():
            pred = model(ids, m).argmax(-1).cpu()
        itok += int(m.sum())
torch.cuda.synchronize(); di = time.perf_counter() - t2
print(f"ANCHOR enc={enc.split('/')[-1]} prec={prec} pad={pad} epochs={epochs} bs={bs} setup_s={setup:.1f} train_s={dt:.2f} train_tok_s={ntok/dt:.0f} infer_s={di:.2f} infer_tok_s={itok/di:.0f} loss={loss.item():.4f}", flush=True)
