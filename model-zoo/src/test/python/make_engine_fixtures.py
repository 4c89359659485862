#!/usr/bin/env python3
"""Generates the PyTorch autograd references for the explicit forward/backward engine (fixtures/engine/).

Run from the repository root with Debian's Python (torch + numpy):

    /usr/bin/python3 model-zoo/src/test/python/make_engine_fixtures.py

It reads the fixtures written by make_fixtures.py (vit_token/, vit_avg/, vit_token_lowrank_k2/: weights and
inputs) and rewrites fixtures/engine/ plus the "## engine/" section at the end of fixtures/README.md.
Deterministic: float32 models, CPU, one thread, no random numbers beyond make_fixtures' seeded ones.

Contents (see ENGINE_README below for the exact keys):
  * the kappa = 3 PELA student of vit_token;
  * every parameter gradient of L = CE_smooth + alpha*L_fd + beta*L_rwp for the kappa = 2 student (code and paper
    forms), checked against a float64 autograd run;
  * every parameter gradient of plain label-smoothed CE for the dense vit_token and vit_avg models;
  * three full optimiser steps (clip_grad_norm_ + schedule + torch.optim.AdamW with timm's decay groups).
"""

import copy
import math
import os
import shutil
import sys
from collections import OrderedDict

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_fixtures as mf  # noqa: E402  (sets float32 default dtype, deterministic algorithms, 1 thread)

FIX = mf.OUT_DIR
OUT_DIR = os.path.join(FIX, "engine")

LABELS = [3, 7, 0, 9]
SMOOTHING = 0.1
ALPHA = 1.5
BETA = 0.7
RWP_EPS = 1e-3
# the optimiser-step fixture
CLIP_NORM = 1.0
WEIGHT_DECAY = 0.05
BETAS = (0.9, 0.999)
ADAM_EPS = 1e-8
SCHEDULE = dict(base_lr=1e-3, min_lr=1e-5, warmup_lr=1e-4, warmup_steps=1, total_steps=3)
STEPS = 3
NO_DECAY_NAMES = ("cls_token", "pos_embed")
GRAD_REL_TOL = 1e-4


# --------------------------------------------------------------------------------------
# loading
# --------------------------------------------------------------------------------------

def load_json(path):
    import json
    with open(path) as f:
        return json.load(f, object_pairs_hook=OrderedDict)


def load_model(set_name):
    """A ViT from a fixture set (config.json + model.safetensors); low-rank if the config has `lowrank`."""
    d = os.path.join(FIX, set_name)
    cfg = load_json(os.path.join(d, "config.json"))
    lowrank = cfg.pop("lowrank", None)
    ranks = OrderedDict(lowrank["ranks"]) if lowrank else None
    model = mf.ViT(cfg, ranks=ranks)
    model.eval()
    sd = mf.read_safetensors(os.path.join(d, "model.safetensors"))
    assert list(sd.keys()) == list(model.state_dict().keys()), set_name
    model.load_state_dict(sd, strict=True)
    return model, cfg, ranks


def load_input(set_name):
    return torch.from_numpy(np.load(os.path.join(FIX, set_name, "input.npy")))


def check_rel(a, ref, tol, what):
    """max|a - ref| / max|ref| <= tol (ref typically float64)."""
    scale = ref.detach().double().abs().max().item()
    d = mf.max_abs(a, ref) / max(scale, 1e-30)
    mf.check(d, tol, what + " (relative to max|ref|)")
    return d


# --------------------------------------------------------------------------------------
# the losses, exactly as ai.pela.zoo.loss.Losses / train.PelaStep compose them
# --------------------------------------------------------------------------------------

def ce_loss(logits, labels):
    return F.cross_entropy(logits, labels, label_smoothing=SMOOTHING)


def fd_loss(s_feats, t_feats, form):
    L = len(s_feats)
    if form == "code":
        return sum(((s - t) ** 2).mean() for s, t in zip(s_feats, t_feats)) / L
    if form == "paper":
        return sum(((s - t) ** 2).sum(dim=(1, 2)).mean() for s, t in zip(s_feats, t_feats)) / (2 * L)
    raise ValueError(form)


def rwp_terms(student, ranks, teacher_w):
    """max|W1 @ W0 - W| of every decomposed Linear, in the ranks' (checkpoint) order."""
    out = []
    for name in ranks:
        seq = student.get_submodule(name)
        out.append((seq[1].weight @ seq[0].weight - teacher_w[name]).abs().max())
    return out


def rwp_loss(maxes, form):
    if form == "paper":
        return sum(m - RWP_EPS for m in maxes)
    if form == "code":
        return sum((m - RWP_EPS) ** 2 for m in maxes) / len(maxes)
    raise ValueError(form)


def pela_loss(student, ranks, teacher_feats, teacher_w, x, labels, form):
    logits, feats = student(x)
    base = ce_loss(logits, labels)
    fd = fd_loss(feats, teacher_feats, form)
    rwp = rwp_loss(rwp_terms(student, ranks, teacher_w), form)
    total = base + fd * ALPHA + rwp * BETA
    return total, base, fd, rwp


def teacher_refs(teacher, ranks, x, dtype):
    t = copy.deepcopy(teacher).to(dtype)
    with torch.no_grad():
        _, feats = t(x.to(dtype))
    feats = [f.detach() for f in feats]
    W = OrderedDict((n, t.get_submodule(n).weight.detach()) for n in ranks)
    return feats, W


def rwp_gaps(student, ranks, teacher_w):
    """Smallest relative gap between the largest and second-largest |W1 @ W0 - W| over all layers."""
    worst = float("inf")
    with torch.no_grad():
        for name in ranks:
            seq = student.get_submodule(name)
            a = (seq[1].weight @ seq[0].weight - teacher_w[name]).abs().flatten()
            top = a.topk(2).values
            worst = min(worst, ((top[0] - top[1]) / top[0]).item())
    return worst


def scalar(v):
    return torch.tensor([float(v)], dtype=torch.float32) if not torch.is_tensor(v) \
        else v.detach().to(torch.float32).reshape(1)


def hyper_tensors():
    out = OrderedDict()
    out["labels"] = torch.tensor(LABELS, dtype=torch.float32)
    out["alpha"] = scalar(ALPHA)
    out["beta"] = scalar(BETA)
    out["smoothing"] = scalar(SMOOTHING)
    out["rwp_eps"] = scalar(RWP_EPS)
    return out


# --------------------------------------------------------------------------------------
# fixture sets
# --------------------------------------------------------------------------------------

def gen_k3(teacher, cfg, x):
    print("engine/vit_token_lowrank_k3/")
    d = os.path.join(OUT_DIR, "vit_token_lowrank_k3")
    os.makedirs(d)
    student, ranks, ssd = mf.make_student(teacher, cfg, kappa=3.0)
    expect = {}
    for i in range(cfg["depth"]):
        expect.update({f"blocks.{i}.attn.qkv": 12, f"blocks.{i}.attn.proj": 8,
                       f"blocks.{i}.mlp.fc1": 12, f"blocks.{i}.mlp.fc2": 12})
    assert dict(ranks) == expect, ranks
    for name, r in ranks.items():
        d_out, d_in = teacher.get_submodule(name).weight.shape
        assert r == mf.pela_rank(d_in, d_out, 3.0)
        assert tuple(ssd[name + ".0.weight"].shape) == (r, d_in)
        assert tuple(ssd[name + ".1.weight"].shape) == (d_out, r)
    logits, feats = mf.run_vit(student, x)
    assert logits.shape == (4, 10) and feats.shape == (2, 4, 17, 48)
    scfg = OrderedDict(cfg)
    scfg["lowrank"] = OrderedDict([("kappa", 3.0), ("omit", list(mf.OMIT)), ("ranks", OrderedDict(ranks))])
    mf.save_json(os.path.join(d, "config.json"), scfg)
    mf.write_safetensors(os.path.join(d, "model.safetensors"), ssd)
    mf.save_npy(os.path.join(d, "logits.npy"), logits)
    mf.save_npy(os.path.join(d, "features.npy"), feats)


def gen_grads_k2(student, ranks, teacher, x, labels, form):
    name = f"grads_k2_{form}.safetensors"
    print(f"engine/{name}")
    results = {}
    for dtype in (torch.float64, torch.float32):
        s = copy.deepcopy(student).to(dtype)
        t_feats, t_w = teacher_refs(teacher, ranks, x, dtype)
        s.zero_grad(set_to_none=True)
        total, base, fd, rwp = pela_loss(s, ranks, t_feats, t_w, x.to(dtype), labels, form)
        total.backward()
        results[dtype] = (s, total, base, fd, rwp)
        if dtype == torch.float32:
            gap = rwp_gaps(s, ranks, t_w)
            print(f"  smallest relative top-2 gap of |W1 W0 - W| over layers: {gap:.3e}")
            assert gap > 1e-4, gap
            # the loss's cross-entropy equals PelaStep's smoothed-target form
            with torch.no_grad():
                logits, _ = s(x)
                tgt = torch.full((len(LABELS), 10), SMOOTHING / 10)
                tgt[torch.arange(len(LABELS)), labels] = 1 - SMOOTHING + SMOOTHING / 10
                mf.check(abs(-(tgt * logits.log_softmax(-1)).sum(1).mean().item() - base.item()), 1e-6,
                         "CE == -mean(sum(smoothed targets * log_softmax))")
    s32, total, base, fd, rwp = results[torch.float32]
    s64, total64, base64, fd64, rwp64 = results[torch.float64]
    for tag, a, b in (("loss", total, total64), ("loss.base", base, base64), ("loss.fd", fd, fd64),
                      ("loss.rwp", rwp, rwp64)):
        check_rel(a, b, GRAD_REL_TOL, f"{form}: float32 vs float64 {tag}")
    out = OrderedDict()
    out["loss"] = scalar(total)
    out["loss.base"] = scalar(base)
    out["loss.fd"] = scalar(fd)
    out["loss.rwp"] = scalar(rwp)
    out.update(hyper_tensors())
    p64 = dict(s64.named_parameters())
    worst = 0.0
    keys = list(s32.state_dict().keys())
    params = dict(s32.named_parameters())
    assert keys == list(params.keys())
    for k in keys:
        g = params[k].grad
        assert g is not None, k
        worst = max(worst, mf.max_abs(g, p64[k].grad) / p64[k].grad.abs().max().item())
        out["grad." + k] = g.detach().clone()
    mf.check(worst, GRAD_REL_TOL, f"{form}: worst float32 vs float64 gradient over all params (relative to max|g64|)")
    print(f"  loss {total.item():.6f} = base {base.item():.6f} + {ALPHA}*fd {fd.item():.6f} + {BETA}*rwp {rwp.item():.6f}")
    mf.write_safetensors(os.path.join(OUT_DIR, name), out)


def gen_grads_dense(set_name, file_name):
    print(f"engine/{file_name}")
    model, cfg, _ = load_model(set_name)
    x = load_input(set_name)
    labels = torch.tensor(LABELS)
    results = {}
    for dtype in (torch.float64, torch.float32):
        m = copy.deepcopy(model).to(dtype)
        logits, _ = m(x.to(dtype))
        loss = ce_loss(logits, labels)
        loss.backward()
        results[dtype] = (m, loss)
    m32, loss = results[torch.float32]
    m64, loss64 = results[torch.float64]
    check_rel(loss, loss64, GRAD_REL_TOL, f"{set_name}: float32 vs float64 CE")
    out = OrderedDict()
    out["loss"] = scalar(loss)
    out["labels"] = torch.tensor(LABELS, dtype=torch.float32)
    out["smoothing"] = scalar(SMOOTHING)
    p64 = dict(m64.named_parameters())
    worst = 0.0
    keys = list(m32.state_dict().keys())
    assert keys == mf.expected_keys(cfg)
    params = dict(m32.named_parameters())
    for k in keys:
        g = params[k].grad
        assert g is not None, k
        worst = max(worst, mf.max_abs(g, p64[k].grad) / p64[k].grad.abs().max().item())
        out["grad." + k] = g.detach().clone()
    mf.check(worst, GRAD_REL_TOL, f"{set_name}: worst float32 vs float64 gradient (relative to max|g64|)")
    print(f"  CE {loss.item():.6f}")
    mf.write_safetensors(os.path.join(OUT_DIR, file_name), out)


def schedule_lr(t):
    """ai.pela.zoo.train.CosineSchedule.lr(t), t 0-based, in double precision."""
    s = SCHEDULE
    if t < s["warmup_steps"]:
        return s["warmup_lr"] + (s["base_lr"] - s["warmup_lr"]) * t / s["warmup_steps"]
    if t >= s["total_steps"]:
        return s["min_lr"]
    progress = (t - s["warmup_steps"]) / (s["total_steps"] - s["warmup_steps"])
    return s["min_lr"] + 0.5 * (s["base_lr"] - s["min_lr"]) * (1 + math.cos(math.pi * progress))


def decays(name, p):
    return p.ndim > 1 and name.rsplit(".", 1)[-1] not in NO_DECAY_NAMES


def run_steps(student, ranks, teacher, x, labels, dtype):
    """STEPS optimiser steps in `dtype`; returns per-step records, clipped gradients and parameters after each step."""
    s = copy.deepcopy(student).to(dtype)
    t_feats, t_w = teacher_refs(teacher, ranks, x, dtype)
    named = list(s.named_parameters())
    decay = [p for n, p in named if decays(n, p)]
    no_decay = [p for n, p in named if not decays(n, p)]
    assert {n for n, p in named if not decays(n, p) and p.ndim > 1} == {"cls_token", "pos_embed"}
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": WEIGHT_DECAY},
                             {"params": no_decay, "weight_decay": 0.0}],
                            lr=SCHEDULE["base_lr"], betas=BETAS, eps=ADAM_EPS)
    params = [p for _, p in named]
    records, clipped, afters = [], [], []
    for step in range(STEPS):
        opt.zero_grad(set_to_none=True)
        total, base, fd, rwp = pela_loss(s, ranks, t_feats, t_w, x.to(dtype), labels, "code")
        total.backward()
        gap = rwp_gaps(s, ranks, t_w)
        assert gap > 1e-4, (step, gap)
        norm = torch.nn.utils.clip_grad_norm_(params, CLIP_NORM)
        clipped.append([p.grad.detach().clone() for p in params])
        lr = schedule_lr(step)
        for group in opt.param_groups:
            group["lr"] = lr
        opt.step()
        afters.append(OrderedDict((n, p.detach().clone()) for n, p in named))
        records.append(dict(lr=lr, norm=norm.detach(), total=total.detach(), base=base.detach(), fd=fd.detach(),
                            rwp=rwp.detach(), gap=gap))
    return [n for n, _ in named], [p for _, p in named], records, clipped, afters


def key_bias_slice(name, cfg):
    """The k part of a fused qkv bias: its gradient is 0 in exact arithmetic (softmax ignores a per-query shift)."""
    D = cfg["embed_dim"]
    return slice(D, 2 * D) if name.endswith("attn.qkv.1.bias") or name.endswith("attn.qkv.bias") else None


def gen_step_k2(student, ranks, teacher, x, labels, cfg):
    print("engine/step_k2.safetensors")
    names, plist, records, clipped, afters = run_steps(student, ranks, teacher, x, labels, torch.float32)
    named = list(zip(names, plist))
    initial = OrderedDict((n, p.detach().clone()) for n, p in student.named_parameters())
    out = OrderedDict()
    out.update(hyper_tensors())
    out["clip_norm"] = scalar(CLIP_NORM)
    out["weight_decay"] = scalar(WEIGHT_DECAY)
    out["adam.beta1"] = scalar(BETAS[0])
    out["adam.beta2"] = scalar(BETAS[1])
    out["adam.eps"] = scalar(ADAM_EPS)
    for k, v in SCHEDULE.items():
        out["schedule." + k] = scalar(v)
    lrs = [r["lr"] for r in records]
    for step, r in enumerate(records):
        out[f"lr.{step}"] = scalar(r["lr"])
        out[f"gradnorm.{step}"] = scalar(r["norm"])
        out[f"loss.{step}"] = scalar(r["total"])
        out[f"loss.base.{step}"] = scalar(r["base"])
        out[f"loss.fd.{step}"] = scalar(r["fd"])
        out[f"loss.rwp.{step}"] = scalar(r["rwp"])
        print(f"  step {step}: loss {r['total'].item():.6f} (base {r['base'].item():.6f} fd {r['fd'].item():.6f} "
              f"rwp {r['rwp'].item():.6f}), pre-clip grad norm {r['norm'].item():.4f}, lr {r['lr']:.6g}, "
              f"top-2 gap {r['gap']:.2e}")
    assert lrs[0] == 1e-4 and lrs[1] == 1e-3, lrs
    last = STEPS - 1
    for n, _ in named:
        out[f"after.{last}.{n}"] = afters[last][n]

    # the same trajectory in float64: how far float rounding alone moves the result (the Java side's tolerance)
    _, _, rec64, _, after64 = run_steps(student, ranks, teacher, x, labels, torch.float64)
    for step in range(STEPS):
        for k in ("total", "norm"):
            check_rel(records[step][k], rec64[step][k], 1e-5, f"step {step} float32 vs float64 {k}")
    worst, worst_k = 0.0, 0.0
    for n, _ in named:
        d = (afters[last][n].double() - after64[last][n]).abs()
        ks = key_bias_slice(n, cfg)
        if ks is not None:
            worst_k = max(worst_k, d[ks].max().item())
            d[ks] = 0
        worst = max(worst, d.max().item())
    mf.check(worst, 5e-6, f"after.{last}: float32 vs float64 trajectory, all but the qkv k-bias slices")
    mf.check(worst_k, 1e-4, f"after.{last}: float32 vs float64 trajectory, qkv k-bias slices (noise-driven)")

    # independent float64 re-implementation of the documented AdamW (from torch's clipped float32 gradients)
    b1, b2 = BETAS
    pw = [initial[n].double() for n, _ in named]
    m = [torch.zeros_like(p) for p in pw]
    v = [torch.zeros_like(p) for p in pw]
    for step in range(STEPS):
        t_ = step + 1
        lr = lrs[step]
        for i, (n, p0) in enumerate(named):
            g = clipped[step][i].double()
            if decays(n, p0):
                pw[i] = pw[i] * (1 - lr * WEIGHT_DECAY)
            m[i] = b1 * m[i] + (1 - b1) * g
            v[i] = b2 * v[i] + (1 - b2) * g * g
            pw[i] = pw[i] - lr / (1 - b1 ** t_) * m[i] / (v[i].sqrt() / math.sqrt(1 - b2 ** t_) + ADAM_EPS)
        worst = max(mf.max_abs(pw[i], afters[step][n]) for i, (n, _) in enumerate(named))
        mf.check(worst, 1e-6, f"AdamW step {step} re-implementation (decay groups, bias correction)")
    # the updates are big enough to matter: every parameter moved
    moved = min((afters[last][n] - initial[n]).abs().max().item() for n, _ in named)
    print(f"  smallest max|after - initial| over params: {moved:.3e}")
    assert moved > 1e-5
    mf.write_safetensors(os.path.join(OUT_DIR, "step_k2.safetensors"), out)


ENGINE_README = """
## engine/ (written by `make_engine_fixtures.py`)
PyTorch autograd references for the explicit forward/backward engine. Regenerate from the repository root with

    /usr/bin/python3 model-zoo/src/test/python/make_engine_fixtures.py

(after `make_fixtures.py` if that was re-run: it reads `vit_token/`, `vit_avg/` and `vit_token_lowrank_k2/`).
Only torch + numpy are needed; float32 CPU autograd, one thread. All tensors are F32; scalars are shape [1].
Every `grad.<key>` / `after.2.<key>` has exactly the checkpoint key and shape of the model's `model.safetensors`,
in its order.

Common hyper-parameters: labels [3, 7, 0, 9] (batch order; stored as `labels` F32 [4]), label smoothing 0.1,
alpha 1.5, beta 0.7, rwp eps 1e-3. Loss terms (as `Losses` / `PelaStep`), features = output tokens of every block
before the final norm, [B, T, D]; the teacher's are constants:
* `L_base` = mean_b -sum_c t[b,c] log_softmax(z)[b,c] with t = (1 - 0.1) onehot + 0.1/C (= `F.cross_entropy(...,
  label_smoothing=0.1)`).
* `L_fd` code = (1/L) sum_i mean((s_i - t_i)^2) (mean over B*T*D); paper = 1/(2L) sum_i mean_b sum_{T,D} (s_i - t_i)^2.
* `L_rwp` over the 8 decomposed Linears X (checkpoint order), m_X = max over all elements of
  |X.1.weight @ X.0.weight - W_X| with W_X the teacher's dense `X.weight` [d_out, d_in]:
  paper = sum_X (m_X - eps); code = (1/K) sum_X (m_X - eps)^2. The gradient of each max goes to its single
  arg-max element (the script asserts the top-2 gap is > 1e-4 relative in every layer, for the gradients and for
  all three optimiser steps), times sign(delta) there.
* L = L_base + alpha * L_fd + beta * L_rwp.

| file | contents |
|---|---|
| `vit_token_lowrank_k3/config.json` | vit_token config + `lowrank` {kappa 3.0, omit, ranks: qkv 12, proj 8, fc1 12, fc2 12} |
| `vit_token_lowrank_k3/model.safetensors` | kappa = 3 student of `vit_token`, same SVD rule and layout as k2 (`X.0.weight` [r, d_in], `X.1.weight` [d_out, r], `X.1.bias`) |
| `vit_token_lowrank_k3/logits.npy`, `features.npy` | [4,10] and [2,4,17,48] for `vit_token/input.npy` (no input copy here) |
| `grads_k2_code.safetensors` | student = `vit_token_lowrank_k2` weights, teacher = `vit_token` (frozen), input `vit_token/input.npy`; L_fd code, L_rwp code |
| `grads_k2_paper.safetensors` | the same with L_fd paper, L_rwp paper |
| `grads_teacher_ce.safetensors` | dense `vit_token` alone, input `vit_token/input.npy`, L = L_base only |
| `grads_avg_ce.safetensors` | dense `vit_avg` alone (avg pooling, no cls token, no qkv bias), input `vit_avg/input.npy`, L = L_base only |
| `step_k2.safetensors` | three optimiser steps of the k2 student on the code-form L (below) |

Keys of `grads_k2_{code,paper}`: `loss`, `loss.base`, `loss.fd`, `loss.rwp` (L_fd / L_rwp unweighted), `labels`,
`alpha`, `beta`, `smoothing`, `rwp_eps`, then `grad.<key>` = dL/d(param) of the TOTAL loss for every one of the
student's 40 parameters (`cls_token`, `pos_embed`, `patch_embed.proj.*`, `blocks.{i}.norm{1,2}.*`,
`blocks.{i}.attn.qkv.0.weight`, `.attn.qkv.1.weight`, `.attn.qkv.1.bias`, ... `norm.*`, `head.*`).
Keys of `grads_{teacher,avg}_ce`: `loss`, `labels`, `smoothing`, `grad.<key>` for every parameter (32 for vit_token,
29 for vit_avg; no clipping). Each gradient file is checked against a float64 autograd run of the same weights:
max|g32 - g64| / max|g64| <= 1e-4 per tensor (losses too; the worst seen is ~1.4e-6), so compare gradients with a
tolerance relative to each tensor's max|g|, not element-wise: the k slice [48:96] of every fused qkv bias
(`blocks.{i}.attn.qkv.bias`, `blocks.{i}.attn.qkv.1.bias`) has gradient 0 in exact arithmetic (softmax ignores a
per-query constant) and holds float noise (~1e-9).

`step_k2.safetensors`: the same batch (vit_token/input.npy, labels above) each step; per step s = 0, 1, 2:
forward/backward of L (code forms, alpha 1.5, beta 0.7), `torch.nn.utils.clip_grad_norm_(all params, 1.0)` (coefficient
1.0 / (norm + 1e-6), applied when < 1), lr = `CosineSchedule(baseLr 1e-3, minLr 1e-5, warmupLr 1e-4, warmupSteps 1,
totalSteps 3).lr(s)`, then `torch.optim.AdamW` (betas 0.9/0.999, eps 1e-8, no amsgrad) with two groups: weight
decay 0.05 for params with ndim > 1 except `cls_token`/`pos_embed`, 0 for the rest (all 1-D: norms and biases).
Keys: `labels`, `alpha`, `beta`, `smoothing`, `rwp_eps`, `clip_norm` (1), `weight_decay` (0.05), `adam.beta1`,
`adam.beta2`, `adam.eps`, `schedule.{base_lr,min_lr,warmup_lr,warmup_steps,total_steps}`; per step `lr.{s}`
(1e-4, 1e-3, 5.05e-4), `gradnorm.{s}` (pre-clip global L2 norm, what clip_grad_norm_ returns), `loss.{s}`,
`loss.base.{s}`, `loss.fd.{s}`, `loss.rwp.{s}` (before that step's update); then `after.2.<key>` for every
parameter after the third update (only the last step's parameters are stored, to keep the file small; the
per-step losses and grad norms check the intermediate states). The script re-implements the AdamW update in
float64 from torch's clipped gradients and asserts 1e-6 agreement with torch at every step, and runs the whole
trajectory again in float64: the per-step losses and grad norms agree to 1e-5 relative and `after.2` to 5e-6
absolute (~1.4e-6 seen), except the qkv k-bias slices [48:96], whose near-zero gradients are noise that AdamW
normalises (|g| << eps): there float32 and float64 differ by up to ~4e-5 (asserted < 1e-4), so a Java test
needs ~1e-4 there (or should skip them).
"""


def write_readme_section():
    path = os.path.join(FIX, "README.md")
    with open(path) as f:
        text = f.read()
    marker = "\n## engine/"
    i = text.find(marker)
    if i >= 0:
        text = text[:i]
    with open(path, "w") as f:
        f.write(text + ENGINE_README)


def main():
    if os.path.isdir(OUT_DIR):
        shutil.rmtree(OUT_DIR)
    os.makedirs(OUT_DIR)
    print(f"torch {torch.__version__}, writing to {OUT_DIR}")
    teacher, cfg, _ = load_model("vit_token")
    student, scfg, ranks = load_model("vit_token_lowrank_k2")
    x = load_input("vit_token")
    assert torch.equal(x, load_input("vit_token_lowrank_k2"))
    # the stored weights are what make_fixtures' seeded construction gives (so both scripts agree)
    rebuilt = mf.build_vit(mf.VIT_TOKEN_CFG, seed=1)
    for k, v in rebuilt.state_dict().items():
        assert torch.equal(v, teacher.state_dict()[k]), k
    _, _, ssd = mf.make_student(rebuilt, mf.VIT_TOKEN_CFG, kappa=2.0)
    for k, v in ssd.items():
        assert torch.equal(v, student.state_dict()[k]), k
    labels = torch.tensor(LABELS)

    gen_k3(teacher, cfg, x)
    for form in ("code", "paper"):
        gen_grads_k2(student, ranks, teacher, x, labels, form)
    gen_grads_dense("vit_token", "grads_teacher_ce.safetensors")
    gen_grads_dense("vit_avg", "grads_avg_ce.safetensors")
    gen_step_k2(student, ranks, teacher, x, labels, cfg)
    write_readme_section()
    total = 0
    for root, _, files in os.walk(OUT_DIR):
        for fn in sorted(files):
            p = os.path.join(root, fn)
            total += os.path.getsize(p)
            print(f"  {os.path.relpath(p, OUT_DIR)}: {os.path.getsize(p)} bytes")
    print(f"engine fixture size: {total} bytes ({total / 1024:.1f} KiB)")


if __name__ == "__main__":
    sys.exit(main())
