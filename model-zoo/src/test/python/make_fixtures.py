#!/usr/bin/env python3
"""Generates the PyTorch reference fixtures used by the pela-spark Java tests.

Run from the repository root with Debian's Python (it has torch + torchvision):

    /usr/bin/python3 model-zoo/src/test/python/make_fixtures.py

Every fixture under model-zoo/src/test/resources/fixtures/ is rewritten.
The output is deterministic (fixed seeds, float32 default dtype, CPU only).

Contents:
  * a minimal timm-style ViT written in plain PyTorch whose state-dict keys are
    exactly timm's, cross-checked against torchvision's VisionTransformer;
  * its PELA low-rank student (truncated SVD);
  * reference values/gradients for the PELA losses (CE, L_fd, L_rwp);
  * a reference trajectory for AdamW + global-norm gradient clipping.
"""

import json
import math
import os
import shutil
import struct
import sys
from collections import OrderedDict

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

torch.set_default_dtype(torch.float32)
torch.use_deterministic_algorithms(True)
torch.set_num_threads(1)

REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "..", ".."))
OUT_DIR = os.path.join(REPO_ROOT, "model-zoo", "src", "test", "resources", "fixtures")

OMIT = ["norm", "head", "patch_embed", "downsample"]


# --------------------------------------------------------------------------------------
# I/O helpers
# --------------------------------------------------------------------------------------

_ST_DTYPES = {
    torch.float32: ("F32", np.dtype("<f4")),
    torch.float16: ("F16", np.dtype("<f2")),
    torch.bfloat16: ("BF16", np.dtype("<i2")),  # raw bit pattern, numpy has no bf16
}


def _tensor_bytes(t):
    t = t.detach().cpu().contiguous()
    name, np_dtype = _ST_DTYPES[t.dtype]
    if t.dtype == torch.bfloat16:
        arr = t.view(torch.int16).numpy().astype(np_dtype, copy=False)
    else:
        arr = t.numpy().astype(np_dtype, copy=False)
    return name, np.ascontiguousarray(arr).tobytes(order="C")


def write_safetensors(path, tensors):
    """Hand-written safetensors writer. Keys stay in insertion order."""
    header = OrderedDict()
    blobs = []
    offset = 0
    for key, t in tensors.items():
        name, raw = _tensor_bytes(t)
        header[key] = {"dtype": name, "shape": list(t.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    hjson = json.dumps(header, separators=(",", ":")).encode("utf-8")
    hjson += b" " * ((-len(hjson)) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(hjson)))
        f.write(hjson)
        for raw in blobs:
            f.write(raw)
    # read back and verify
    back = read_safetensors(path)
    assert list(back.keys()) == list(tensors.keys()), path
    for key, t in tensors.items():
        b = back[key]
        assert b.dtype == t.dtype and tuple(b.shape) == tuple(t.shape), (path, key)
        # compare raw bytes so NaN compares equal to itself
        assert _tensor_bytes(b)[1] == _tensor_bytes(t.detach())[1], (path, key)


def read_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    assert n % 8 == 0
    header = json.loads(data[8:8 + n].decode("utf-8"), object_pairs_hook=OrderedDict)
    body = data[8 + n:]
    out = OrderedDict()
    for key, meta in header.items():
        b, e = meta["data_offsets"]
        raw = body[b:e]
        if meta["dtype"] == "F32":
            t = torch.from_numpy(np.frombuffer(raw, dtype="<f4").copy())
        elif meta["dtype"] == "F16":
            t = torch.from_numpy(np.frombuffer(raw, dtype="<f2").copy())
        elif meta["dtype"] == "BF16":
            t = torch.from_numpy(np.frombuffer(raw, dtype="<i2").copy()).view(torch.bfloat16)
        else:
            raise ValueError(meta["dtype"])
        out[key] = t.reshape(meta["shape"])
    return out


def save_npy(path, t):
    np.save(path, np.ascontiguousarray(t.detach().cpu().numpy().astype(np.float32)))


def save_json(path, obj):
    with open(path, "w") as f:
        json.dump(obj, f, indent=2)
        f.write("\n")


def max_abs(a, b):
    return (a.detach().double() - b.detach().double()).abs().max().item()


def check(cond_value, tol, what):
    print(f"  [check] {what}: max|d| = {cond_value:.3e} (tol {tol:g})")
    if not cond_value <= tol:
        raise AssertionError(f"{what}: max|d| = {cond_value} > {tol}")


# --------------------------------------------------------------------------------------
# timm-style ViT (plain PyTorch, timm's state-dict keys)
# --------------------------------------------------------------------------------------

class PatchEmbed(nn.Module):
    def __init__(self, img_size, patch_size, in_chans, embed_dim):
        super().__init__()
        self.num_patches = (img_size // patch_size) ** 2
        self.proj = nn.Conv2d(in_chans, embed_dim, kernel_size=patch_size, stride=patch_size)

    def forward(self, x):
        x = self.proj(x)                       # [B, D, H', W']
        return x.flatten(2).transpose(1, 2)    # [B, N, D]


def make_linear(d_in, d_out, bias, ranks, name):
    """Plain nn.Linear, or the PELA factorisation Sequential(Linear(d_in,r,no bias), Linear(r,d_out))."""
    if ranks is not None and name in ranks:
        r = ranks[name]
        return nn.Sequential(nn.Linear(d_in, r, bias=False), nn.Linear(r, d_out, bias=bias))
    return nn.Linear(d_in, d_out, bias=bias)


class Attention(nn.Module):
    def __init__(self, dim, num_heads, qkv_bias, ranks, prefix):
        super().__init__()
        self.num_heads = num_heads
        self.head_dim = dim // num_heads
        self.scale = self.head_dim ** -0.5
        self.qkv = make_linear(dim, dim * 3, qkv_bias, ranks, prefix + "qkv")
        self.proj = make_linear(dim, dim, True, ranks, prefix + "proj")

    def forward(self, x):
        B, N, C = x.shape
        qkv = self.qkv(x).reshape(B, N, 3, self.num_heads, self.head_dim).permute(2, 0, 3, 1, 4)
        q, k, v = qkv.unbind(0)
        attn = (q * self.scale) @ k.transpose(-2, -1)
        attn = attn.softmax(dim=-1)
        x = (attn @ v).transpose(1, 2).reshape(B, N, C)
        return self.proj(x)


class Mlp(nn.Module):
    def __init__(self, dim, hidden, ranks, prefix):
        super().__init__()
        self.fc1 = make_linear(dim, hidden, True, ranks, prefix + "fc1")
        self.act = nn.GELU()
        self.fc2 = make_linear(hidden, dim, True, ranks, prefix + "fc2")

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)))


class Block(nn.Module):
    def __init__(self, dim, num_heads, mlp_ratio, qkv_bias, ranks, prefix):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=1e-6)
        self.attn = Attention(dim, num_heads, qkv_bias, ranks, prefix + "attn.")
        self.norm2 = nn.LayerNorm(dim, eps=1e-6)
        self.mlp = Mlp(dim, int(dim * mlp_ratio), ranks, prefix + "mlp.")

    def forward(self, x):
        x = x + self.attn(self.norm1(x))
        x = x + self.mlp(self.norm2(x))
        return x


class ViT(nn.Module):
    def __init__(self, cfg, ranks=None):
        super().__init__()
        D = cfg["embed_dim"]
        self.global_pool = cfg["global_pool"]
        self.has_class_token = cfg["class_token"]
        self.num_prefix_tokens = 1 if self.has_class_token else 0
        self.patch_embed = PatchEmbed(cfg["img_size"], cfg["patch_size"], cfg["in_chans"], D)
        T = self.patch_embed.num_patches + self.num_prefix_tokens
        # state_dict lists own parameters (cls_token, pos_embed) before submodules, as timm does
        if self.has_class_token:
            self.cls_token = nn.Parameter(torch.zeros(1, 1, D))
        self.pos_embed = nn.Parameter(torch.zeros(1, T, D))
        self.blocks = nn.Sequential(*[
            Block(D, cfg["num_heads"], cfg["mlp_ratio"], cfg["qkv_bias"], ranks, f"blocks.{i}.")
            for i in range(cfg["depth"])
        ])
        self.norm = nn.LayerNorm(D, eps=1e-6)
        self.head = nn.Linear(D, cfg["num_classes"])

    def forward(self, x):
        x = self.patch_embed(x)
        if self.has_class_token:
            x = torch.cat([self.cls_token.expand(x.shape[0], -1, -1), x], dim=1)
        x = x + self.pos_embed
        feats = []
        for blk in self.blocks:
            x = blk(x)
            feats.append(x)
        x = self.norm(x)
        if self.global_pool == "token":
            x = x[:, 0]
        elif self.global_pool == "avg":
            x = x[:, self.num_prefix_tokens:].mean(dim=1)
        else:
            raise ValueError(self.global_pool)
        return self.head(x), feats


def init_weights(model, seed):
    g = torch.Generator().manual_seed(seed)

    def tn(t, std):
        # truncated normal at +-2 std, drawn from the private generator
        with torch.no_grad():
            v = torch.randn(t.shape, generator=g) * std
            v = v.clamp(-2 * std, 2 * std)
            t.copy_(v)

    with torch.no_grad():
        for name, p in model.named_parameters():
            if name in ("cls_token", "pos_embed"):
                tn(p, 0.5)
            elif "norm" in name and name.endswith(".weight") or name == "norm.weight":
                p.copy_(1.0 + torch.randn(p.shape, generator=g) * 0.1)
            elif name.endswith(".bias"):
                p.copy_(torch.randn(p.shape, generator=g) * 0.05)
            elif name.endswith(".weight"):
                tn(p, 0.1)
            else:
                raise ValueError(name)


def expected_keys(cfg):
    keys = []
    if cfg["class_token"]:
        keys.append("cls_token")
    keys += ["pos_embed", "patch_embed.proj.weight", "patch_embed.proj.bias"]
    for i in range(cfg["depth"]):
        b = f"blocks.{i}."
        keys += [b + "norm1.weight", b + "norm1.bias", b + "attn.qkv.weight"]
        if cfg["qkv_bias"]:
            keys.append(b + "attn.qkv.bias")
        keys += [b + "attn.proj.weight", b + "attn.proj.bias", b + "norm2.weight", b + "norm2.bias",
                 b + "mlp.fc1.weight", b + "mlp.fc1.bias", b + "mlp.fc2.weight", b + "mlp.fc2.bias"]
    keys += ["norm.weight", "norm.bias", "head.weight", "head.bias"]
    return keys


def state_dict_f32(model):
    return OrderedDict((k, v.detach().clone().contiguous()) for k, v in model.state_dict().items())


# --------------------------------------------------------------------------------------
# torchvision cross-check
# --------------------------------------------------------------------------------------

def torchvision_crosscheck(model, cfg, x):
    from torchvision.models.vision_transformer import VisionTransformer

    assert cfg["class_token"] and cfg["global_pool"] == "token"
    D = cfg["embed_dim"]
    tv = VisionTransformer(image_size=cfg["img_size"], patch_size=cfg["patch_size"], num_layers=cfg["depth"],
                           num_heads=cfg["num_heads"], hidden_dim=D, mlp_dim=int(D * cfg["mlp_ratio"]),
                           num_classes=cfg["num_classes"])
    tv.eval()
    sd = model.state_dict()
    tv_keys = set(tv.state_dict().keys())
    m = OrderedDict()
    m["conv_proj.weight"] = sd["patch_embed.proj.weight"]
    m["conv_proj.bias"] = sd["patch_embed.proj.bias"]
    m["class_token"] = sd["cls_token"]
    m["encoder.pos_embedding"] = sd["pos_embed"]
    for i in range(cfg["depth"]):
        s = f"blocks.{i}."
        t = f"encoder.layers.encoder_layer_{i}."
        m[t + "ln_1.weight"] = sd[s + "norm1.weight"]
        m[t + "ln_1.bias"] = sd[s + "norm1.bias"]
        m[t + "self_attention.in_proj_weight"] = sd[s + "attn.qkv.weight"]
        m[t + "self_attention.in_proj_bias"] = sd[s + "attn.qkv.bias"]
        m[t + "self_attention.out_proj.weight"] = sd[s + "attn.proj.weight"]
        m[t + "self_attention.out_proj.bias"] = sd[s + "attn.proj.bias"]
        m[t + "ln_2.weight"] = sd[s + "norm2.weight"]
        m[t + "ln_2.bias"] = sd[s + "norm2.bias"]
        fc1 = "mlp.0." if (t + "mlp.0.weight") in tv_keys else "mlp.linear_1."
        fc2 = "mlp.3." if (t + "mlp.3.weight") in tv_keys else "mlp.linear_2."
        m[t + fc1 + "weight"] = sd[s + "mlp.fc1.weight"]
        m[t + fc1 + "bias"] = sd[s + "mlp.fc1.bias"]
        m[t + fc2 + "weight"] = sd[s + "mlp.fc2.weight"]
        m[t + fc2 + "bias"] = sd[s + "mlp.fc2.bias"]
    m["encoder.ln.weight"] = sd["norm.weight"]
    m["encoder.ln.bias"] = sd["norm.bias"]
    m["heads.head.weight"] = sd["head.weight"]
    m["heads.head.bias"] = sd["head.bias"]
    assert set(m.keys()) == tv_keys, (sorted(tv_keys - set(m.keys())), sorted(set(m.keys()) - tv_keys))
    tv.load_state_dict(m, strict=True)
    # LayerNorm eps must match timm's 1e-6
    for mod in tv.modules():
        if isinstance(mod, nn.LayerNorm):
            assert mod.eps == 1e-6, mod.eps
    with torch.no_grad():
        ref = tv(x)
        ours, _ = model(x)
    d = max_abs(ref, ours)
    check(d, 1e-5, "torchvision VisionTransformer vs script ViT logits")
    return d


# --------------------------------------------------------------------------------------
# PELA low-rank student
# --------------------------------------------------------------------------------------

def lowrank_targets(model):
    """Linear layers to decompose: name contains none of OMIT and d_out >= 10."""
    out = OrderedDict()
    for name, mod in model.named_modules():
        if isinstance(mod, nn.Linear) and not any(o in name for o in OMIT):
            d_out, d_in = mod.weight.shape
            if d_out >= 10:
                out[name] = (d_in, d_out)
    return out


def pela_rank(d_in, d_out, kappa):
    r = math.floor(d_in * d_out / (kappa * (d_in + d_out)))
    return max(1, min(r, d_in, d_out))


def make_student(teacher, cfg, kappa):
    targets = lowrank_targets(teacher)
    ranks = OrderedDict((n, pela_rank(di, do, kappa)) for n, (di, do) in targets.items())
    student = ViT(cfg, ranks=ranks)
    student.eval()
    tsd = teacher.state_dict()
    ssd = OrderedDict()
    for key in student.state_dict().keys():
        mod = key.rsplit(".", 2)[0] if (key.endswith(".0.weight") or key.endswith(".1.weight")
                                        or key.endswith(".1.bias")) else None
        if mod is not None and mod in ranks:
            continue
        ssd[key] = tsd[key].clone()
    for name, r in ranks.items():
        W = tsd[name + ".weight"].double()              # [d_out, d_in]  (SVD in float64, stored as float32)
        U, S, Vh = torch.linalg.svd(W.T, full_matrices=False)
        sq = S[:r].sqrt()
        P0 = (U[:, :r] * sq).T                            # [r, d_in]
        P1 = (sq[:, None] * Vh[:r, :]).T                  # [d_out, r]
        # best rank-r approximation of W computed independently (SVD of W itself)
        U2, S2, Vh2 = torch.linalg.svd(W, full_matrices=False)
        best = (U2[:, :r] * S2[:r]) @ Vh2[:r, :]
        d = max_abs(P1 @ P0, best)
        assert d < 1e-9, (name, d)
        ssd[name + ".0.weight"] = P0.float().contiguous()
        ssd[name + ".1.weight"] = P1.float().contiguous()
        if (name + ".bias") in tsd:
            ssd[name + ".1.bias"] = tsd[name + ".bias"].clone()
    # keep the student's own state-dict order
    ordered = OrderedDict((k, ssd[k]) for k in student.state_dict().keys())
    student.load_state_dict(ordered, strict=True)
    # stored (float32) factors: P1 @ P0 vs the best rank-r approximation of W (float64 SVD of W itself)
    worst = 0.0
    for name, r in ranks.items():
        W = tsd[name + ".weight"].double()
        U2, S2, Vh2 = torch.linalg.svd(W, full_matrices=False)
        best = (U2[:, :r] * S2[:r]) @ Vh2[:r, :]
        worst = max(worst, max_abs(ordered[name + ".1.weight"].double() @ ordered[name + ".0.weight"].double(), best))
    check(worst, 1e-6, f"kappa={kappa}: P.1.weight @ P.0.weight vs best rank-r approximation (all layers)")
    return student, ranks, ordered


# --------------------------------------------------------------------------------------
# Fixture sets
# --------------------------------------------------------------------------------------

VIT_TOKEN_CFG = OrderedDict([
    ("img_size", 32), ("patch_size", 8), ("in_chans", 3), ("embed_dim", 48), ("depth", 2), ("num_heads", 3),
    ("mlp_ratio", 4.0), ("num_classes", 10), ("global_pool", "token"), ("class_token", True), ("qkv_bias", True),
])
VIT_AVG_CFG = OrderedDict(VIT_TOKEN_CFG)
VIT_AVG_CFG["global_pool"] = "avg"
VIT_AVG_CFG["class_token"] = False
VIT_AVG_CFG["qkv_bias"] = False


def build_vit(cfg, seed):
    model = ViT(cfg)
    model.eval()
    init_weights(model, seed)
    keys = list(model.state_dict().keys())
    assert keys == expected_keys(cfg), keys
    return model


def make_input(seed, cfg, batch=4):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(batch, cfg["in_chans"], cfg["img_size"], cfg["img_size"], generator=g)


def run_vit(model, x):
    with torch.no_grad():
        logits, feats = model(x)
    return logits, torch.stack(feats, 0)


def gen_vit_token():
    print("vit_token/")
    d = os.path.join(OUT_DIR, "vit_token")
    os.makedirs(d)
    cfg = VIT_TOKEN_CFG
    model = build_vit(cfg, seed=1)
    x = make_input(101, cfg)
    logits, feats = run_vit(model, x)
    assert logits.shape == (4, 10) and feats.shape == (2, 4, 17, 48)
    tv_diff = torchvision_crosscheck(model, cfg, x)
    sd = state_dict_f32(model)
    save_json(os.path.join(d, "config.json"), cfg)
    write_safetensors(os.path.join(d, "model.safetensors"), sd)
    save_npy(os.path.join(d, "input.npy"), x)
    save_npy(os.path.join(d, "logits.npy"), logits)
    save_npy(os.path.join(d, "features.npy"), feats)
    # Half-precision fixtures hold a subset (to keep the files small) plus the special values.
    subset = OrderedDict((k, sd[k]) for k in ("cls_token", "pos_embed", "blocks.0.attn.qkv.weight", "head.weight", "head.bias"))
    subset["specials"] = torch.tensor([1.0, -2.5, 65504.0, 2.0 ** -24, 0.0, -0.0, float("inf"), float("-inf"),
                                       float("nan"), 1e-3, -3.14159], dtype=torch.float32)
    for tag, dt in (("f16", torch.float16), ("bf16", torch.bfloat16)):
        half = OrderedDict((k, v.to(dt)) for k, v in subset.items())
        back = OrderedDict((k, v.to(torch.float32)) for k, v in half.items())
        write_safetensors(os.path.join(d, f"model_{tag}.safetensors"), half)
        write_safetensors(os.path.join(d, f"model_{tag}_as_f32.safetensors"), back)
    return model, x, logits, tv_diff


def gen_vit_avg():
    print("vit_avg/")
    d = os.path.join(OUT_DIR, "vit_avg")
    os.makedirs(d)
    cfg = VIT_AVG_CFG
    model = build_vit(cfg, seed=2)
    x = make_input(102, cfg)
    logits, feats = run_vit(model, x)
    assert logits.shape == (4, 10) and feats.shape == (2, 4, 16, 48)
    # independent check of avg pooling: recompute head(norm(last block).mean over tokens)
    with torch.no_grad():
        ref = model.head(model.norm(feats[-1]).mean(1))
    check(max_abs(ref, logits), 0.0, "vit_avg pooling recomputation")
    save_json(os.path.join(d, "config.json"), cfg)
    write_safetensors(os.path.join(d, "model.safetensors"), state_dict_f32(model))
    save_npy(os.path.join(d, "input.npy"), x)
    save_npy(os.path.join(d, "logits.npy"), logits)
    save_npy(os.path.join(d, "features.npy"), feats)


def gen_lowrank(teacher, x, teacher_logits):
    print("vit_token_lowrank_k2/")
    d = os.path.join(OUT_DIR, "vit_token_lowrank_k2")
    os.makedirs(d)
    cfg = VIT_TOKEN_CFG
    student, ranks, ssd = make_student(teacher, cfg, kappa=2.0)
    expect = {}
    for i in range(cfg["depth"]):
        expect.update({f"blocks.{i}.attn.qkv": 18, f"blocks.{i}.attn.proj": 12,
                       f"blocks.{i}.mlp.fc1": 19, f"blocks.{i}.mlp.fc2": 19})
    assert dict(ranks) == expect, ranks
    logits, feats = run_vit(student, x)
    # the student's forward really uses y = (x @ P0^T) @ P1^T + b: re-check one layer by hand
    with torch.no_grad():
        z = torch.randn(3, 48, generator=torch.Generator().manual_seed(7))
        by_hand = (z @ ssd["blocks.0.attn.qkv.0.weight"].T) @ ssd["blocks.0.attn.qkv.1.weight"].T \
            + ssd["blocks.0.attn.qkv.1.bias"]
        check(max_abs(by_hand, student.blocks[0].attn.qkv(z)), 1e-6, "low-rank layer forward by hand")
    print(f"  student(k=2) vs teacher logits max|d| = {max_abs(logits, teacher_logits):.3e} (expected to differ)")
    scfg = OrderedDict(cfg)
    scfg["lowrank"] = OrderedDict([("kappa", 2.0), ("omit", list(OMIT)), ("ranks", OrderedDict(ranks))])
    save_json(os.path.join(d, "config.json"), scfg)
    write_safetensors(os.path.join(d, "model.safetensors"), ssd)
    save_npy(os.path.join(d, "input.npy"), x)
    save_npy(os.path.join(d, "logits.npy"), logits)
    save_npy(os.path.join(d, "features.npy"), feats)

    # full rank (kappa = 0.25) must reproduce the teacher; no files written
    full, franks, _ = make_student(teacher, cfg, kappa=0.25)
    for name, r in franks.items():
        di, do = lowrank_targets(teacher)[name]
        assert r == min(di, do), (name, r)
    flogits, ffeats = run_vit(full, x)
    _, tfeats = run_vit(teacher, x)
    check(max_abs(flogits, teacher_logits), 1e-5, "full-rank student (kappa=0.25) vs teacher logits")
    check(max_abs(ffeats, tfeats), 1e-5, "full-rank student (kappa=0.25) vs teacher features")


def gen_losses():
    print("losses/")
    d = os.path.join(OUT_DIR, "losses")
    os.makedirs(d)
    g = torch.Generator().manual_seed(300)
    out = OrderedDict()

    # --- cross entropy with label smoothing 0.1 (mean) ---
    logits = (torch.randn(6, 10, generator=g) * 2.0).requires_grad_(True)
    labels = torch.randint(0, 10, (6,), generator=g)
    ce = F.cross_entropy(logits, labels, label_smoothing=0.1)
    ce.backward()
    # independent formula check
    with torch.no_grad():
        logp = logits.log_softmax(-1)
        tgt = torch.full_like(logp, 0.1 / 10)
        tgt[torch.arange(6), labels] += 0.9
        check(abs(-(tgt * logp).sum(-1).mean().item() - ce.item()), 1e-5, "CE label smoothing formula")
    out["ce.logits"] = logits.detach()
    out["ce.labels"] = labels.to(torch.float32)
    out["ce.loss"] = ce.detach().reshape(1)
    out["ce.grad_logits"] = logits.grad.detach()

    # --- feature distillation L_fd over L = 3 blocks, [B=4, T=5, D=8] ---
    L, B, T, D = 3, 4, 5, 8
    s = [torch.randn(B, T, D, generator=g).requires_grad_(True) for _ in range(L)]
    t = [torch.randn(B, T, D, generator=g) for _ in range(L)]
    code = sum(F.mse_loss(s[i], t[i]) for i in range(L)) / L
    gcode = torch.autograd.grad(code, s)
    paper = sum(((s[i] - t[i]) ** 2).sum() / B for i in range(L)) / (2 * L)
    gpaper = torch.autograd.grad(paper, s)
    for i in range(L):
        out[f"fd.student.{i}"] = s[i].detach()
        out[f"fd.teacher.{i}"] = t[i]
    out["fd.code.loss"] = code.detach().reshape(1)
    out["fd.paper.loss"] = paper.detach().reshape(1)
    for i in range(L):
        out[f"fd.code.grad.{i}"] = gcode[i]
    for i in range(L):
        out[f"fd.paper.grad.{i}"] = gpaper[i]

    # --- weight-perturbation regulariser L_rwp over K = 3 matrices ---
    shapes = [((12, 8), 3), ((16, 8), 4), ((8, 16), 2)]
    eps = 1e-3
    Ws, W0s, W1s = [], [], []
    for (d_out, d_in), r in shapes:
        W0 = torch.randn(r, d_in, generator=g) * 0.5
        W1 = torch.randn(d_out, r, generator=g) * 0.5
        W = W1 @ W0 + 0.01 * torch.randn(d_out, d_in, generator=g)
        Ws.append(W)
        W0s.append(W0.requires_grad_(True))
        W1s.append(W1.requires_grad_(True))
    params = W0s + W1s

    def deltas():
        return [(W1s[k] @ W0s[k] - Ws[k]).abs().max() for k in range(len(shapes))]

    mx = deltas()
    # no ties at the max, so the subgradient is unambiguous
    for k in range(len(shapes)):
        a = (W1s[k] @ W0s[k] - Ws[k]).abs().flatten().detach()
        top = a.topk(2).values
        assert (top[0] - top[1]).item() > 1e-6, k
    rwp_paper = sum(m - eps for m in mx)
    gp = torch.autograd.grad(rwp_paper, params)
    mx = deltas()
    rwp_code = sum((m - eps) ** 2 for m in mx) / len(shapes)
    gc = torch.autograd.grad(rwp_code, params)
    K = len(shapes)
    for k in range(K):
        out[f"rwp.W.{k}"] = Ws[k]
        out[f"rwp.W0.{k}"] = W0s[k].detach()
        out[f"rwp.W1.{k}"] = W1s[k].detach()
    out["rwp.eps"] = torch.tensor([eps], dtype=torch.float32)
    out["rwp.paper.loss"] = rwp_paper.detach().reshape(1)
    out["rwp.code.loss"] = rwp_code.detach().reshape(1)
    for k in range(K):
        out[f"rwp.paper.grad_W0.{k}"] = gp[k]
        out[f"rwp.paper.grad_W1.{k}"] = gp[K + k]
    for k in range(K):
        out[f"rwp.code.grad_W0.{k}"] = gc[k]
        out[f"rwp.code.grad_W1.{k}"] = gc[K + k]
    print("  ce.loss = %.6f, fd.code.loss = %.6f, fd.paper.loss = %.6f, rwp.paper.loss = %.6f, rwp.code.loss = %.6f"
          % (ce.item(), code.item(), paper.item(), rwp_paper.item(), rwp_code.item()))
    out = OrderedDict((k, v.detach().to(torch.float32).contiguous()) for k, v in out.items())
    write_safetensors(os.path.join(d, "losses.safetensors"), out)


def gen_adamw():
    print("adamw/")
    d = os.path.join(OUT_DIR, "adamw")
    os.makedirs(d)
    g = torch.Generator().manual_seed(400)
    max_norm = 1.0
    lrs = [1e-2, 8e-3, 5e-3]
    w = nn.Parameter(torch.randn(5, 4, generator=g) * 0.5)
    b = nn.Parameter(torch.randn(4, generator=g) * 0.5)
    out = OrderedDict()
    out["p.w"] = w.detach().clone()
    out["p.b"] = b.detach().clone()
    out["clip.max_norm"] = torch.tensor([max_norm])
    opt = torch.optim.AdamW([{"params": [w], "weight_decay": 0.05}, {"params": [b], "weight_decay": 0.0}],
                            lr=lrs[0], betas=(0.9, 0.999), eps=1e-8)
    for s, lr in enumerate(lrs):
        gw = torch.randn(5, 4, generator=g) * 5.0
        gb = torch.randn(4, generator=g) * 5.0
        out[f"g.{s}.w"] = gw.clone()
        out[f"g.{s}.b"] = gb.clone()
        out[f"lr.{s}"] = torch.tensor([lr])
        w.grad = gw.clone()
        b.grad = gb.clone()
        total = torch.nn.utils.clip_grad_norm_([w, b], max_norm=max_norm)
        assert total.item() > max_norm, "clipping must be active"
        out[f"clip.total_norm.{s}"] = total.detach().reshape(1).to(torch.float32)
        for grp in opt.param_groups:
            grp["lr"] = lr
        opt.step()
        out[f"after.{s}.w"] = w.detach().clone()
        out[f"after.{s}.b"] = b.detach().clone()
        print(f"  step {s}: pre-clip grad norm {total.item():.4f}, lr {lr}")
    out["state.m.w"] = opt.state[w]["exp_avg"].clone()
    out["state.m.b"] = opt.state[b]["exp_avg"].clone()
    out["state.v.w"] = opt.state[w]["exp_avg_sq"].clone()
    out["state.v.b"] = opt.state[b]["exp_avg_sq"].clone()

    # independent re-implementation of the documented procedure (float64) as a sanity check
    pw = out["p.w"].double()
    pb = out["p.b"].double()
    mw = torch.zeros_like(pw); mb = torch.zeros_like(pb)
    vw = torch.zeros_like(pw); vb = torch.zeros_like(pb)
    b1, b2, e = 0.9, 0.999, 1e-8
    for s, lr in enumerate(lrs):
        gw, gb = out[f"g.{s}.w"].double(), out[f"g.{s}.b"].double()
        tot = torch.sqrt((gw ** 2).sum() + (gb ** 2).sum())
        coef = min(1.0, max_norm / (tot.item() + 1e-6))
        gw, gb = gw * coef, gb * coef
        t_ = s + 1
        pw = pw * (1 - lr * 0.05)
        mw = b1 * mw + (1 - b1) * gw; mb = b1 * mb + (1 - b1) * gb
        vw = b2 * vw + (1 - b2) * gw * gw; vb = b2 * vb + (1 - b2) * gb * gb
        bc1, bc2 = 1 - b1 ** t_, 1 - b2 ** t_
        pw = pw - lr / bc1 * mw / (vw.sqrt() / math.sqrt(bc2) + e)
        pb = pb - lr / bc1 * mb / (vb.sqrt() / math.sqrt(bc2) + e)
        check(max(max_abs(pw, out[f"after.{s}.w"]), max_abs(pb, out[f"after.{s}.b"])), 1e-6,
              f"AdamW step {s} re-implementation")
    write_safetensors(os.path.join(d, "adamw.safetensors"), out)


README = """# Test fixtures (PyTorch references)

Generated by `model-zoo/src/test/python/make_fixtures.py`; regenerate all of them from the repository root with

    /usr/bin/python3 model-zoo/src/test/python/make_fixtures.py

(Debian's Python with `python3-torch`, `python3-torchvision`, `python3-numpy`.) The script is deterministic
(fixed seeds, float32, CPU) and rewrites this whole directory. `.safetensors` files are written by hand
(8-byte LE header length, JSON header padded with spaces to a multiple of 8, raw LE C-order data);
`.npy` files are float32 (`numpy.save`). All weights/inputs are random (weights ~N(0, 0.1^2) truncated at
2 std, cls/pos ~N(0, 0.5^2), LayerNorm weights 1 + N(0, 0.1^2), biases N(0, 0.05^2); images N(0, 1)).

The ViT is a minimal timm-style ViT in plain PyTorch with timm's exact state-dict keys (LayerNorm eps 1e-6,
exact erf GELU, timm's qkv reshape `(B, N, 3, heads, head_dim).permute(2, 0, 3, 1, 4)`, scale head_dim^-0.5).
Its logits for `vit_token` are asserted equal (1e-5) to torchvision's `VisionTransformer` loaded with the
same weights.

## vit_token/
| file | contents |
|---|---|
| `config.json` | img_size 32, patch 8, 3 channels, embed_dim 48, depth 2, 3 heads, mlp_ratio 4, 10 classes, global_pool "token", class_token, qkv_bias |
| `model.safetensors` | F32 timm state dict (`cls_token` [1,1,48], `pos_embed` [1,17,48], `patch_embed.proj.*`, `blocks.{0,1}.*`, `norm.*`, `head.*`) |
| `input.npy` | [4,3,32,32] images |
| `logits.npy` | [4,10] |
| `features.npy` | [2,4,17,48] output tokens of each block (before the final norm) |
| `model_f16.safetensors` | `cls_token`, `pos_embed`, `blocks.0.attn.qkv.weight`, `head.*` and `specials` (1, -2.5, 65504, 2^-24, ±0, ±inf, NaN, 1e-3, -3.14159) as F16 |
| `model_f16_as_f32.safetensors` | those F16 values cast back to F32 by torch |
| `model_bf16.safetensors` | the same subset as BF16 |
| `model_bf16_as_f32.safetensors` | those BF16 values cast back to F32 by torch |

## vit_avg/
Same as `vit_token` but global_pool "avg" (mean over patch tokens), no class token, no qkv bias (T = 16):
`config.json`, `model.safetensors` (no `cls_token`, no `blocks.*.attn.qkv.bias`; `pos_embed` [1,16,48]),
`input.npy` [4,3,32,32], `logits.npy` [4,10], `features.npy` [2,4,16,48].

## vit_token_lowrank_k2/
PELA low-rank student of `vit_token` at kappa = 2 by truncated SVD. Decomposed: every Linear whose name contains
none of norm/head/patch_embed/downsample and with d_out >= 10 (`blocks.{i}.attn.qkv`, `.attn.proj`, `.mlp.fc1`,
`.mlp.fc2`), rank r = floor(d_in*d_out / (kappa*(d_in+d_out))) clamped to [1, min(d_in, d_out)]
(qkv 18, proj 12, fc1 19, fc2 19). With `U, S, Vh = svd(W.T)`: `X.0.weight = (U[:, :r] * sqrt(S[:r])).T` [r, d_in],
`X.1.weight = (sqrt(S[:r])[:, None] * Vh[:r]).T` [d_out, r], `X.1.bias` = original bias;
y = (x @ X.0.weight.T) @ X.1.weight.T + X.1.bias. (SVD computed in float64, stored as float32.)
Files: `config.json` (teacher config + `lowrank` {kappa, omit, ranks}), `model.safetensors`, `input.npy`
(same as vit_token), `logits.npy` [4,10], `features.npy` [2,4,17,48].
The script also asserts that the full-rank student (kappa = 0.25) reproduces the teacher to 1e-5 (no files).

## losses/losses.safetensors (all F32)
* `ce.logits` [6,10], `ce.labels` [6] (class indices as float), `ce.loss` [1] =
  `F.cross_entropy(logits, labels, label_smoothing=0.1)` (mean), `ce.grad_logits` [6,10].
* `fd.student.{0,1,2}`, `fd.teacher.{0,1,2}` [4,5,8]; `fd.code.loss` [1] = mean_i mse_loss(s_i, t_i);
  `fd.paper.loss` [1] = 1/(2L) * sum_i ||s_i - t_i||_F^2 / B; `fd.code.grad.{i}`, `fd.paper.grad.{i}` [4,5,8]
  (w.r.t. the student features).
* `rwp.W.{k}` [d_out,d_in], `rwp.W0.{k}` [r,d_in], `rwp.W1.{k}` [d_out,r] for shapes [12,8] r3, [16,8] r4,
  [8,16] r2; `rwp.eps` [1] = 1e-3; dW_k = W1_k @ W0_k - W_k; `rwp.paper.loss` [1] = sum_k (max|dW_k| - eps);
  `rwp.code.loss` [1] = mean_k (max|dW_k| - eps)^2; `rwp.{paper,code}.grad_W0.{k}`, `rwp.{paper,code}.grad_W1.{k}`.

## adamw/adamw.safetensors (all F32)
AdamW (betas 0.9/0.999, eps 1e-8; weight decay 0.05 on `w`, 0 on `b`) with `clip_grad_norm_([w, b], 1.0)` before
every step (torch's clip coefficient is max_norm / (total_norm + 1e-6), applied only when < 1).
* `p.w` [5,4], `p.b` [4]: initial params; `clip.max_norm` [1].
* per step s = 0,1,2: `g.{s}.w`, `g.{s}.b` raw (pre-clip) gradients, `lr.{s}` [1] (1e-2, 8e-3, 5e-3),
  `clip.total_norm.{s}` [1] (pre-clip global L2 norm returned by clip_grad_norm_), `after.{s}.w`, `after.{s}.b`
  params after the step.
* `state.m.w`, `state.m.b` (exp_avg), `state.v.w`, `state.v.b` (exp_avg_sq) after the last step.
"""


# The sets this script writes; other scripts own the other folders under fixtures/ (albef/: make_albef_fixtures.py).
OWN_SETS = ("vit_token", "vit_avg", "vit_token_lowrank_k2", "losses", "adamw")


# Sections of fixtures/README.md that other scripts append (engine/: make_engine_fixtures.py); main() keeps them.
FOREIGN_README_SECTIONS = ("\n## engine/",)


def write_readme():
    """Writes README, keeping whatever another script appended from the first foreign section heading on."""
    path = os.path.join(OUT_DIR, "README.md")
    tail = ""
    if os.path.exists(path):
        with open(path) as f:
            old = f.read()
        starts = [old.find(h) for h in FOREIGN_README_SECTIONS if old.find(h) >= 0]
        if starts:
            tail = old[min(starts):]
    with open(path, "w") as f:
        f.write(README + tail)


def main():
    for name in OWN_SETS:
        if os.path.isdir(os.path.join(OUT_DIR, name)):
            shutil.rmtree(os.path.join(OUT_DIR, name))
    os.makedirs(OUT_DIR, exist_ok=True)
    print(f"torch {torch.__version__}, writing to {OUT_DIR}")
    teacher, x, logits, tv_diff = gen_vit_token()
    gen_vit_avg()
    gen_lowrank(teacher, x, logits)
    gen_losses()
    gen_adamw()
    write_readme()
    total = 0
    for root, _, files in os.walk(OUT_DIR):
        for fn in sorted(files):
            p = os.path.join(root, fn)
            total += os.path.getsize(p)
    print(f"torchvision cross-check max|d| = {tv_diff:.3e}")
    print(f"total fixture size: {total} bytes ({total / 1024:.1f} KiB)")


if __name__ == "__main__":
    sys.exit(main())
