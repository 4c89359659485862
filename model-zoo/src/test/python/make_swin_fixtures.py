#!/usr/bin/env python3
"""Generates the PyTorch references for the Swin Transformer on the engine (fixtures/swin/).

Run from the repository root with Debian's Python (torch 1.13 + torchvision 0.14 + numpy):

    nice -n 10 /usr/bin/python3 model-zoo/src/test/python/make_swin_fixtures.py

The reference is a small re-statement of the official code (microsoft/Swin-Transformer, the code PELA's Swin
release builds on) with the official state-dict keys. It is first checked against torchvision 0.14's
SwinTransformer (weights renamed from torchvision's keys) on config "a", where both agree: every stage's resolution
is at least the window. Config "b" has a last stage smaller than the window, where torchvision pads but the official
code shrinks the window (and its bias table) and does not shift: only the official re-statement covers it.

Per config ("a", "b"), in fixtures/swin/<cfg>/:
  teacher.safetensors   the dense model's weights (official keys)
  student.safetensors   its PELA student at kappa = 1.5 with the Swin omit list (SVD factors, sqrt(S) on both sides)
  student_wide.safetensors (set a) the same with omit = ["norm"]: attn.proj, the reductions and the head decomposed
  refs.safetensors      input, labels, teacher logits and block outputs, student logits and block outputs and
                        pooled features, the buffers real checkpoints carry ("buffer.<block>.attn.relative_position_index",
                        "buffer.<block>.attn_mask", as float32), and gradients (see GRADIENT SETS below) as "<set>.grad.<key>" with their
                        losses "<set>.loss", "<set>.loss.base", "<set>.loss.fd", "<set>.loss.rwp"
Gradient sets: "dense_ce" (label-smoothed CE of the teacher), "blocks_code" (student, CE + alpha*L_fd over every
block in the code form + beta*L_rwp code form), "final_paper" (student, L_fd on the final pooled feature in the
paper form, L_rwp paper form), "wide_blocks_code" (set a's wide student, as blocks_code). Float32 model, checked against a float64 autograd run.

fixtures/swin/a/steps.safetensors: three whole PELA steps of set a's student (blocks, code forms) with gradient
clipping, warm-up + cosine schedule and torch.optim.AdamW with the official Swin groups (no decay on 1-D parameters
and relative_position_bias_table): lr, pre-clip gradient norm and losses per step ("lr.<s>", "norm.<s>",
"total.<s>", "fd.<s>", "rwp.<s>") and every parameter after the last step ("after.<key>"), float64 trajectory.

Also fixtures/swin/vit_k2_final.safetensors: the ViT engine's fd-points = final (the same L_fd on the pooled
feature, code form) for the kappa = 2 student of fixtures/vit_token (make_fixtures.py), every parameter's gradient of
CE + alpha*L_fd + beta*L_rwp (code forms) as "grad.<key>", and the losses.
"""

import math
import os
import sys
from collections import OrderedDict

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_fixtures as mf  # noqa: E402  (float32 default dtype, deterministic algorithms, 1 thread)

OUT_DIR = os.path.join(mf.OUT_DIR, "swin")
OMIT = ("norm", "head", "patch_embed", "downsample", "attn.proj")
KAPPA = 1.5
LN_EPS = 1e-5
SMOOTHING = 0.1
ALPHA = 1.5
BETA = 0.7
RWP_EPS = 1e-3
LABELS = [3, 7]

CONFIGS = OrderedDict([
    # every stage res >= window: stage 0 (16x16) and 1 (8x8) shift, stage 2 (4x4) is one window, no shift
    ("a", dict(img_size=32, patch_size=2, in_chans=3, embed_dim=8, depths=[2, 2, 2], num_heads=[1, 2, 4],
               window_size=4, mlp_ratio=2.0, num_classes=10, qkv_bias=True)),
    # stage 2 (2x2) is smaller than the window 4: window 2, a 3x3 bias table, no shift; no qkv bias
    ("b", dict(img_size=32, patch_size=4, in_chans=3, embed_dim=8, depths=[2, 2, 2], num_heads=[1, 2, 2],
               window_size=4, mlp_ratio=2.0, num_classes=10, qkv_bias=False)),
])


def make_linear(d_in, d_out, bias, ranks, name):
    if ranks is not None and name in ranks:
        r = ranks[name]
        return nn.Sequential(nn.Linear(d_in, r, bias=False), nn.Linear(r, d_out, bias=bias))
    return nn.Linear(d_in, d_out, bias=bias)


def window_partition(x, ws):
    B, H, W, C = x.shape
    x = x.view(B, H // ws, ws, W // ws, ws, C)
    return x.permute(0, 1, 3, 2, 4, 5).contiguous().view(-1, ws * ws, C)


def window_reverse(windows, ws, H, W):
    B = windows.shape[0] // ((H // ws) * (W // ws))
    x = windows.view(B, H // ws, W // ws, ws, ws, -1)
    return x.permute(0, 1, 3, 2, 4, 5).contiguous().view(B, H, W, -1)


class WindowAttention(nn.Module):
    def __init__(self, dim, ws, heads, qkv_bias, ranks, prefix):
        super().__init__()
        self.ws, self.heads = ws, heads
        self.scale = (dim // heads) ** -0.5
        self.relative_position_bias_table = nn.Parameter(torch.zeros((2 * ws - 1) ** 2, heads))
        coords = torch.stack(torch.meshgrid([torch.arange(ws), torch.arange(ws)], indexing="ij")).flatten(1)
        rel = (coords[:, :, None] - coords[:, None, :]).permute(1, 2, 0).contiguous()
        rel[:, :, 0] += ws - 1
        rel[:, :, 1] += ws - 1
        rel[:, :, 0] *= 2 * ws - 1
        self.register_buffer("relative_position_index", rel.sum(-1), persistent=False)
        self.qkv = make_linear(dim, 3 * dim, qkv_bias, ranks, prefix + "attn.qkv")
        self.proj = make_linear(dim, dim, True, ranks, prefix + "attn.proj")

    def forward(self, x, mask):
        B_, N, C = x.shape
        qkv = self.qkv(x).reshape(B_, N, 3, self.heads, C // self.heads).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0] * self.scale, qkv[1], qkv[2]
        attn = q @ k.transpose(-2, -1)
        bias = self.relative_position_bias_table[self.relative_position_index.view(-1)].view(N, N, -1)
        attn = attn + bias.permute(2, 0, 1).unsqueeze(0)
        if mask is not None:
            nW = mask.shape[0]
            attn = attn.view(B_ // nW, nW, self.heads, N, N) + mask.unsqueeze(1).unsqueeze(0).to(attn.dtype)
            attn = attn.view(-1, self.heads, N, N)
        attn = attn.softmax(dim=-1)
        return self.proj((attn @ v).transpose(1, 2).reshape(B_, N, C))


class Block(nn.Module):
    def __init__(self, dim, res, heads, ws, shift, mlp_ratio, qkv_bias, ranks, prefix):
        super().__init__()
        if res <= ws:  # the official rule: the window is the whole grid and nothing shifts
            ws, shift = res, 0
        self.res, self.ws, self.shift = res, ws, shift
        self.norm1 = nn.LayerNorm(dim, eps=LN_EPS)
        self.attn = WindowAttention(dim, ws, heads, qkv_bias, ranks, prefix)
        self.norm2 = nn.LayerNorm(dim, eps=LN_EPS)
        hidden = int(dim * mlp_ratio)
        self.mlp = nn.Module()
        self.mlp.fc1 = make_linear(dim, hidden, True, ranks, prefix + "mlp.fc1")
        self.mlp.fc2 = make_linear(hidden, dim, True, ranks, prefix + "mlp.fc2")
        mask = None
        if shift > 0:
            img = torch.zeros(1, res, res, 1)
            cnt = 0
            for h in (slice(0, -ws), slice(-ws, -shift), slice(-shift, None)):
                for w in (slice(0, -ws), slice(-ws, -shift), slice(-shift, None)):
                    img[:, h, w, :] = cnt
                    cnt += 1
            mw = window_partition(img, ws).view(-1, ws * ws)
            mask = mw.unsqueeze(1) - mw.unsqueeze(2)
            mask = mask.masked_fill(mask != 0, -100.0).masked_fill(mask == 0, 0.0)
        self.register_buffer("attn_mask", mask, persistent=False)

    def forward(self, x):
        H = W = self.res
        B, L, C = x.shape
        shortcut = x
        x = self.norm1(x).view(B, H, W, C)
        if self.shift > 0:
            x = torch.roll(x, shifts=(-self.shift, -self.shift), dims=(1, 2))
        x = self.attn(window_partition(x, self.ws), self.attn_mask)
        x = window_reverse(x.view(-1, self.ws, self.ws, C), self.ws, H, W)
        if self.shift > 0:
            x = torch.roll(x, shifts=(self.shift, self.shift), dims=(1, 2))
        x = shortcut + x.view(B, L, C)
        return x + self.mlp.fc2(F.gelu(self.mlp.fc1(self.norm2(x))))


class PatchMerging(nn.Module):
    def __init__(self, dim, res, ranks, prefix):
        super().__init__()
        self.res = res
        self.reduction = make_linear(4 * dim, 2 * dim, False, ranks, prefix + "reduction")
        self.norm = nn.LayerNorm(4 * dim, eps=LN_EPS)

    def forward(self, x):
        B, L, C = x.shape
        x = x.view(B, self.res, self.res, C)
        x = torch.cat([x[:, 0::2, 0::2], x[:, 1::2, 0::2], x[:, 0::2, 1::2], x[:, 1::2, 1::2]], -1)
        return self.reduction(self.norm(x.view(B, -1, 4 * C)))


class Stage(nn.Module):
    def __init__(self, cfg, s, ranks):
        super().__init__()
        dim = cfg["embed_dim"] << s
        res = (cfg["img_size"] // cfg["patch_size"]) >> s
        ws = cfg["window_size"]
        self.blocks = nn.ModuleList([
            Block(dim, res, cfg["num_heads"][s], ws, 0 if j % 2 == 0 else ws // 2, cfg["mlp_ratio"],
                  cfg["qkv_bias"], ranks, f"layers.{s}.blocks.{j}.") for j in range(cfg["depths"][s])])
        last = s == len(cfg["depths"]) - 1
        self.downsample = None if last else PatchMerging(dim, res, ranks, f"layers.{s}.downsample.")


class Swin(nn.Module):
    """The official SwinTransformer's forward; forward() returns logits, block outputs and the pooled feature."""

    def __init__(self, cfg, ranks=None):
        super().__init__()
        p, e = cfg["patch_size"], cfg["embed_dim"]
        self.patch_embed = nn.Module()
        self.patch_embed.proj = nn.Conv2d(cfg["in_chans"], e, kernel_size=p, stride=p)
        self.patch_embed.norm = nn.LayerNorm(e, eps=LN_EPS)
        self.layers = nn.ModuleList([Stage(cfg, s, ranks) for s in range(len(cfg["depths"]))])
        nf = e << (len(cfg["depths"]) - 1)
        self.norm = nn.LayerNorm(nf, eps=LN_EPS)
        self.head = make_linear(nf, cfg["num_classes"], True, ranks, "head")

    def forward(self, x):
        x = self.patch_embed.norm(self.patch_embed.proj(x).flatten(2).transpose(1, 2))
        feats = []
        for stage in self.layers:
            for blk in stage.blocks:
                x = blk(x)
                feats.append(x)
            if stage.downsample is not None:
                x = stage.downsample(x)
        pooled = self.norm(x).mean(1)
        return self.head(pooled), feats, pooled


def init_weights(model, seed):
    """Random weights of a size that makes every term matter (bias tables and norms included)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("norm1.weight") or name.endswith("norm2.weight") or name.endswith("norm.weight"):
                p.copy_(1 + 0.2 * torch.randn(p.shape, generator=g))
            elif "relative_position_bias_table" in name:
                p.copy_(0.5 * torch.randn(p.shape, generator=g))
            elif name.endswith("bias"):
                p.copy_(0.1 * torch.randn(p.shape, generator=g))
            else:
                fan_in = p[0].numel()
                p.copy_(torch.randn(p.shape, generator=g) / math.sqrt(fan_in))


# --------------------------------------------------------------------------------------
# torchvision cross-check (config "a": where torchvision and the official code agree)
# --------------------------------------------------------------------------------------

def torchvision_key(key):
    """Official key → torchvision 0.14 key."""
    if key.startswith("patch_embed.proj."):
        return "features.0.0." + key.split(".")[-1]
    if key.startswith("patch_embed.norm."):
        return "features.0.2." + key.split(".")[-1]
    if key.startswith("layers."):
        parts = key.split(".")
        s = int(parts[1])
        if parts[2] == "blocks":
            rest = ".".join(parts[4:]).replace("mlp.fc1", "mlp.0").replace("mlp.fc2", "mlp.3")
            return f"features.{2 * s + 1}.{parts[3]}.{rest}"
        return f"features.{2 * s + 2}." + ".".join(parts[3:])
    return key


def torchvision_crosscheck(model, cfg, x):
    from torchvision.models.swin_transformer import SwinTransformer
    tv = SwinTransformer(patch_size=[cfg["patch_size"]] * 2, embed_dim=cfg["embed_dim"], depths=cfg["depths"],
                         num_heads=cfg["num_heads"], window_size=[cfg["window_size"]] * 2,
                         mlp_ratio=cfg["mlp_ratio"], num_classes=cfg["num_classes"])
    tv.eval()
    tsd = tv.state_dict()
    renamed = OrderedDict((torchvision_key(k), v) for k, v in model.state_dict().items())
    ours = {torchvision_key(n + ".relative_position_index"): b for n, b in
            ((n, m.relative_position_index) for n, m in model.named_modules() if isinstance(m, WindowAttention))}
    for k in tsd:
        if k.endswith("relative_position_index"):
            assert torch.equal(tsd[k].view(-1), ours[k].view(-1)), k
            renamed[k] = tsd[k]
    assert set(renamed) == set(tsd), sorted(set(renamed) ^ set(tsd))
    tv.load_state_dict(renamed, strict=True)
    blocks = []
    hooks = [m.register_forward_hook(lambda _m, _i, o: blocks.append(o.detach()))
             for name, m in tv.named_modules() if type(m).__name__ == "SwinTransformerBlock"]
    with torch.no_grad():
        logits = tv(x)
        ours, feats, _ = model(x)
    for h in hooks:
        h.remove()
    mf.check(mf.max_abs(logits, ours) / ours.abs().max().item(), 1e-5, "torchvision vs official re-statement: logits")
    assert len(blocks) == len(feats)
    for i, (a, b) in enumerate(zip(blocks, feats)):
        mf.check(mf.max_abs(a.flatten(1, 2), b) / b.abs().max().item(), 1e-5, f"torchvision vs official: block {i}")


# --------------------------------------------------------------------------------------
# PELA student and losses
# --------------------------------------------------------------------------------------

def student_ranks(model, omit=OMIT):
    ranks = OrderedDict()
    for name, mod in model.named_modules():
        if isinstance(mod, nn.Linear) and not any(o in name for o in omit) and mod.weight.shape[0] >= 10:
            d_out, d_in = mod.weight.shape
            ranks[name] = max(1, min(math.floor(d_in * d_out / (KAPPA * (d_in + d_out))), d_in, d_out))
    return ranks


def make_student(teacher, cfg, omit=OMIT):
    ranks = student_ranks(teacher, omit)
    student = Swin(cfg, ranks)
    tsd = teacher.state_dict()
    ssd = OrderedDict()
    for key in student.state_dict():
        linear = key.rsplit(".", 2)[0]
        if linear in ranks:
            W = tsd[linear + ".weight"].double()
            U, S, Vh = torch.linalg.svd(W.T, full_matrices=False)
            sq = S[:ranks[linear]].sqrt()
            r = ranks[linear]
            if key.endswith(".0.weight"):
                ssd[key] = (U[:, :r] * sq).T.float().contiguous()
            elif key.endswith(".1.weight"):
                ssd[key] = (sq[:, None] * Vh[:r, :]).T.float().contiguous()
            else:
                ssd[key] = tsd[linear + ".bias"].clone()
        else:
            ssd[key] = tsd[key].clone()
    student.load_state_dict(ssd, strict=True)
    student.eval()
    return student, ranks, ssd


def ce_loss(logits, labels):
    return F.cross_entropy(logits, labels, label_smoothing=SMOOTHING)


def fd_loss(s_feats, t_feats, form):
    n = len(s_feats)
    if form == "code":
        return sum(F.mse_loss(s, t) for s, t in zip(s_feats, t_feats)) / n
    batch = s_feats[0].shape[0]
    return sum(((s - t) ** 2).sum() for s, t in zip(s_feats, t_feats)) / (2 * n * batch)


def rwp_loss(student, ranks, teacher_w, form):
    terms = []
    mods = dict(student.named_modules())
    for name in ranks:
        seq = mods[name]
        delta = seq[1].weight @ seq[0].weight - teacher_w[name].to(seq[0].weight.dtype)
        terms.append(delta.abs().max() - RWP_EPS)
    if form == "paper":
        return sum(terms)
    return sum(t * t for t in terms) / len(terms)


def loss_of(model, ranks, x, labels, teacher_out, teacher_w, points, form):
    logits, feats, pooled = model(x)
    base = ce_loss(logits, labels)
    if teacher_out is None:
        return base, base, None, None
    t_feats = teacher_out[1] if points == "blocks" else [teacher_out[2]]
    s_feats = feats if points == "blocks" else [pooled]
    fd = fd_loss(s_feats, [t.to(logits.dtype) for t in t_feats], form)
    rwp = rwp_loss(model, ranks, teacher_w, form)
    return base + ALPHA * fd + BETA * rwp, base, fd, rwp


def gradient_set(out, name, model, ranks, x, labels, teacher=None, points=None, form=None):
    """Float32 gradients, checked against a float64 autograd run of the same loss."""
    teacher_w = None
    if teacher is not None:
        tsd = teacher.state_dict()
        teacher_w = {n: tsd[n + ".weight"].double() for n in ranks}
    results = []
    for dtype in (torch.float32, torch.float64):
        m = model.to(dtype)
        m.zero_grad()
        t_out = None
        if teacher is not None:
            with torch.no_grad():
                t_out = teacher.to(dtype)(x.to(dtype))
        total, base, fd, rwp = loss_of(m, ranks, x.to(dtype), labels, t_out, teacher_w, points, form)
        total.backward()
        grads = OrderedDict((k, p.grad.detach().clone()) for k, p in m.named_parameters())
        results.append((total.item(), base.item(), None if fd is None else fd.item(), None if rwp is None else rwp.item(), grads))
    model.float()
    if teacher is not None:
        teacher.float()
    f32, f64 = results
    worst = max(mf.max_abs(f32[4][k].double(), f64[4][k]) / max(f64[4][k].abs().max().item(), 1e-30) for k in f32[4])
    mf.check(worst, 1e-4, f"{name}: float32 vs float64 gradients (relative to each tensor's max)")
    out[name + ".loss"] = torch.tensor([f64[0]], dtype=torch.float32)
    out[name + ".loss.base"] = torch.tensor([f64[1]], dtype=torch.float32)
    if f64[2] is not None:
        out[name + ".loss.fd"] = torch.tensor([f64[2]], dtype=torch.float32)
        out[name + ".loss.rwp"] = torch.tensor([f64[3]], dtype=torch.float32)
    for k, g in f64[4].items():
        out[name + ".grad." + k] = g.float().contiguous()


def generate(tag, cfg, seed):
    d = os.path.join(OUT_DIR, tag)
    os.makedirs(d, exist_ok=True)
    torch.manual_seed(seed)
    teacher = Swin(cfg)
    init_weights(teacher, seed)
    teacher.eval()
    x = torch.randn(2, cfg["in_chans"], cfg["img_size"], cfg["img_size"], generator=torch.Generator().manual_seed(seed + 1))
    labels = torch.tensor(LABELS)
    if tag == "a":
        torchvision_crosscheck(teacher, cfg, x)
    student, ranks, ssd = make_student(teacher, cfg)
    with torch.no_grad():
        t_logits, t_feats, t_pooled = teacher(x)
        s_logits, s_feats, s_pooled = student(x)
    refs = OrderedDict()
    refs["input"] = x.contiguous()
    refs["hyper.smoothing"] = torch.tensor([SMOOTHING], dtype=torch.float32)
    refs["hyper.alpha"] = torch.tensor([ALPHA], dtype=torch.float32)
    refs["hyper.beta"] = torch.tensor([BETA], dtype=torch.float32)
    refs["hyper.rwp_eps"] = torch.tensor([RWP_EPS], dtype=torch.float32)
    refs["teacher.logits"] = t_logits.contiguous()
    refs["teacher.pooled"] = t_pooled.contiguous()
    for i, f in enumerate(t_feats):
        refs[f"teacher.block.{i}"] = f.contiguous()
    refs["student.logits"] = s_logits.contiguous()
    refs["student.pooled"] = s_pooled.contiguous()
    for i, f in enumerate(s_feats):
        refs[f"student.block.{i}"] = f.contiguous()
    for s_idx, stage in enumerate(teacher.layers):
        for j, blk in enumerate(stage.blocks):
            prefix = f"buffer.layers.{s_idx}.blocks.{j}."
            refs[prefix + "attn.relative_position_index"] = blk.attn.relative_position_index.float().contiguous()
            if blk.attn_mask is not None:
                refs[prefix + "attn_mask"] = blk.attn_mask.float().contiguous()
    gradient_set(refs, "dense_ce", teacher, None, x, labels)
    gradient_set(refs, "blocks_code", student, ranks, x, labels, teacher, "blocks", "code")
    gradient_set(refs, "final_paper", student, ranks, x, labels, teacher, "final", "paper")
    if tag == "a":
        # omit = ["norm"]: attn.proj, the reductions and the head decomposed too (what model.omit may ask for)
        wide, wide_ranks, wide_sd = make_student(teacher, cfg, omit=("norm",))
        assert any("reduction" in n for n in wide_ranks) and "head" in wide_ranks and any("proj" in n for n in wide_ranks)
        with torch.no_grad():
            w_logits, w_feats, w_pooled = wide(x)
        refs["student_wide.logits"] = w_logits.contiguous()
        refs["student_wide.pooled"] = w_pooled.contiguous()
        for i, f in enumerate(w_feats):
            refs[f"student_wide.block.{i}"] = f.contiguous()
        gradient_set(refs, "wide_blocks_code", wide, wide_ranks, x, labels, teacher, "blocks", "code")
        mf.write_safetensors(os.path.join(d, "student_wide.safetensors"), wide_sd)
    mf.write_safetensors(os.path.join(d, "teacher.safetensors"), OrderedDict(
        (k, v.contiguous()) for k, v in teacher.state_dict().items()))
    mf.write_safetensors(os.path.join(d, "student.safetensors"), ssd)
    mf.write_safetensors(os.path.join(d, "refs.safetensors"), refs)
    print(f"swin/{tag}: ranks {dict(ranks)}")


def vit_final():
    """The ViT PELA loss with L_fd on the pooled feature (what the head sees), code forms, float64-checked."""
    import make_engine_fixtures as mef
    teacher, _, _ = mef.load_model("vit_token")
    student, _, ranks = mef.load_model("vit_token_lowrank_k2")
    x = mef.load_input("vit_token")
    labels = torch.tensor(mef.LABELS)
    results = []
    for dtype in (torch.float32, torch.float64):
        t = teacher.to(dtype)
        s = student.to(dtype)
        s.zero_grad()
        pooled = {}
        hooks = [m.head.register_forward_pre_hook(lambda _m, inp, key=key: pooled.__setitem__(key, inp[0]))
                 for key, m in (("t", t), ("s", s))]
        with torch.no_grad():
            t(x.to(dtype))
        t_w = OrderedDict((n, t.get_submodule(n).weight.detach()) for n in ranks)
        logits, _ = s(x.to(dtype))
        for h in hooks:
            h.remove()
        base = F.cross_entropy(logits, labels, label_smoothing=mef.SMOOTHING)
        fd = F.mse_loss(pooled["s"], pooled["t"].detach())
        rwp = mef.rwp_loss(mef.rwp_terms(s, ranks, t_w), "code")
        total = base + mef.ALPHA * fd + mef.BETA * rwp
        total.backward()
        grads = OrderedDict((k, p.grad.detach().clone()) for k, p in s.named_parameters())
        results.append(([v.item() for v in (total, base, fd, rwp)], grads))
    teacher.float()
    student.float()
    (l32, g32), (l64, g64) = results
    worst = max(mf.max_abs(g32[k].double(), g64[k]) / g64[k].abs().max().item() for k in g32)
    mf.check(worst, 1e-4, "vit final: float32 vs float64 gradients")
    out = OrderedDict()
    for name, v in zip(("loss", "loss.base", "loss.fd", "loss.rwp"), l64):
        out[name] = torch.tensor([v], dtype=torch.float32)
    for name, v in (("alpha", mef.ALPHA), ("beta", mef.BETA), ("smoothing", mef.SMOOTHING), ("rwp_eps", mef.RWP_EPS)):
        out[name] = torch.tensor([v], dtype=torch.float32)
    for k, g in g64.items():
        out["grad." + k] = g.float().contiguous()
    mf.write_safetensors(os.path.join(OUT_DIR, "vit_k2_final.safetensors"), out)
    print(f"swin/vit_k2_final: losses {l64}")


STEP_SCHEDULE = dict(base_lr=1e-3, min_lr=1e-5, warmup_lr=1e-4, warmup_steps=1, total_steps=3)
STEP_CLIP = 1.0
STEP_WEIGHT_DECAY = 0.05
STEPS = 3


def schedule_lr(t):
    """ai.pela.zoo.train.CosineSchedule.lr(t), t 0-based."""
    s = STEP_SCHEDULE
    if t < s["warmup_steps"]:
        return s["warmup_lr"] + (s["base_lr"] - s["warmup_lr"]) * t / s["warmup_steps"]
    progress = (t - s["warmup_steps"]) / (s["total_steps"] - s["warmup_steps"])
    return s["min_lr"] + 0.5 * (s["base_lr"] - s["min_lr"]) * (1 + math.cos(math.pi * progress))


def swin_decays(name, p):
    """The official Swin code's groups: no decay for 1-D parameters and the relative position bias tables."""
    return p.ndim > 1 and "relative_position_bias_table" not in name


def run_steps(student, ranks, teacher, x, labels, dtype):
    s = Swin(CONFIGS["a"], ranks)
    s.load_state_dict(student.state_dict())
    s = s.to(dtype)
    t = teacher.to(dtype)
    with torch.no_grad():
        t_out = t(x.to(dtype))
    teacher_w = {n: t.state_dict()[n + ".weight"].double() for n in ranks}
    named = list(s.named_parameters())
    opt = torch.optim.AdamW([{"params": [p for n, p in named if swin_decays(n, p)], "weight_decay": STEP_WEIGHT_DECAY},
                             {"params": [p for n, p in named if not swin_decays(n, p)], "weight_decay": 0.0}],
                            lr=STEP_SCHEDULE["base_lr"], betas=(0.9, 0.999), eps=1e-8)
    records = []
    for step in range(STEPS):
        opt.zero_grad(set_to_none=True)
        total, base, fd, rwp = loss_of(s, ranks, x.to(dtype), labels, t_out, teacher_w, "blocks", "code")
        total.backward()
        norm = torch.nn.utils.clip_grad_norm_([p for _, p in named], STEP_CLIP)
        lr = schedule_lr(step)
        for group in opt.param_groups:
            group["lr"] = lr
        opt.step()
        records.append(dict(lr=lr, norm=norm.item(), total=total.item(), fd=fd.item(), rwp=rwp.item()))
    teacher.float()
    return records, OrderedDict((n, p.detach().clone()) for n, p in named)


def qkv_key_slice(name, p):
    """The k third of a qkv bias: its gradient is 0 in exact arithmetic (softmax ignores a per-query shift)."""
    if name.endswith("attn.qkv.bias") or name.endswith("attn.qkv.1.bias"):
        d = p.shape[0] // 3
        return slice(d, 2 * d)
    return None


def gen_steps():
    """Three whole SwinPelaStep steps on set a's student: clipping, warm-up + cosine, AdamW with Swin's groups."""
    cfg = CONFIGS["a"]
    teacher = Swin(cfg)
    teacher.load_state_dict(mf.read_safetensors(os.path.join(OUT_DIR, "a", "teacher.safetensors")))
    teacher.eval()
    ranks = student_ranks(teacher)
    student = Swin(cfg, ranks)
    student.load_state_dict(mf.read_safetensors(os.path.join(OUT_DIR, "a", "student.safetensors")))
    refs = mf.read_safetensors(os.path.join(OUT_DIR, "a", "refs.safetensors"))
    x = refs["input"]
    labels = torch.tensor(LABELS)
    rec32, after32 = run_steps(student, ranks, teacher, x, labels, torch.float32)
    rec64, after64 = run_steps(student, ranks, teacher, x, labels, torch.float64)
    worst = 0.0
    for n, p in after32.items():
        d = (p.double() - after64[n]).abs()
        ks = qkv_key_slice(n, p)
        if ks is not None:
            d[ks] = 0
        worst = max(worst, d.max().item())
    mf.check(worst, 5e-6, "swin steps: float32 vs float64 parameters after 3 steps (but the qkv k-bias slices)")
    out = OrderedDict()
    for k, v in STEP_SCHEDULE.items():
        out["schedule." + k] = torch.tensor([v], dtype=torch.float32)
    out["clip_norm"] = torch.tensor([STEP_CLIP], dtype=torch.float32)
    out["weight_decay"] = torch.tensor([STEP_WEIGHT_DECAY], dtype=torch.float32)
    for step, r in enumerate(rec64):
        for k in ("lr", "norm", "total", "fd", "rwp"):
            out[f"{k}.{step}"] = torch.tensor([r[k]], dtype=torch.float32)
    for n, p in after64.items():
        out["after." + n] = p.float().contiguous()
    mf.write_safetensors(os.path.join(OUT_DIR, "a", "steps.safetensors"), out)
    print("swin/a/steps: " + ", ".join(f"loss {r['total']:.6f} norm {r['norm']:.4f} lr {r['lr']:.3g}" for r in rec64))


def main():
    for i, (tag, cfg) in enumerate(CONFIGS.items()):
        generate(tag, cfg, 100 + 10 * i)
    gen_steps()
    vit_final()


if __name__ == "__main__":
    main()
