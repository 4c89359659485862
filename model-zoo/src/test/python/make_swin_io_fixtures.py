"""Fixtures for Swin checkpoint loading (model-zoo/src/test/resources/fixtures/swin_io/).

A tiny Swin (img 16, patch 2, embed 8, depths [2, 2], heads [1, 2], window 4, 5 classes) in the official layout
(microsoft/Swin-Transformer) with random weights and the two buffers as the official code computes them:
`attn.relative_position_index` (int64 [ws^2, ws^2]) taken from torchvision 0.14's ShiftedWindowAttention buffer, and
`attn_mask` (float32 [windows, ws^2, ws^2]) by the official construction (img_mask slices, window_partition, pairwise
difference != 0 -> -100). The same weights in timm >= 0.9's layout (downsample at the start of the next stage,
head.fc, buffers non-persistent so absent). Run from the repository root:

    /usr/bin/python3 model-zoo/src/test/python/make_swin_io_fixtures.py
"""
import json
import os
import struct
from collections import OrderedDict

import numpy as np
import torch
from torchvision.models.swin_transformer import ShiftedWindowAttention

OUT = "model-zoo/src/test/resources/fixtures/swin_io"
CFG = {"architecture": "swin", "img_size": 16, "patch_size": 2, "in_chans": 3, "embed_dim": 8, "depths": [2, 2],
       "num_heads": [1, 2], "window_size": 4, "mlp_ratio": 2.0, "num_classes": 5, "qkv_bias": True,
       "mean": [0.5, 0.5, 0.5], "std": [0.25, 0.25, 0.25]}
DT = {torch.float32: ("F32", "<f4"), torch.int64: ("I64", "<i8")}


def write_safetensors(path, tensors):
    header, blobs, offset = OrderedDict(), [], 0
    for key, t in tensors.items():
        name, np_dtype = DT[t.dtype]
        raw = np.ascontiguousarray(t.contiguous().numpy().astype(np_dtype)).tobytes(order="C")
        header[key] = {"dtype": name, "shape": list(t.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((-len(h)) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


def window_partition(x, ws):
    b, h, w, c = x.shape
    x = x.view(b, h // ws, ws, w // ws, ws, c)
    return x.permute(0, 1, 3, 2, 4, 5).contiguous().view(-1, ws, ws, c)


def official_mask(res, ws, shift):
    img_mask = torch.zeros((1, res, res, 1))
    cnt = 0
    for h in (slice(0, -ws), slice(-ws, -shift), slice(-shift, None)):
        for w in (slice(0, -ws), slice(-ws, -shift), slice(-shift, None)):
            img_mask[:, h, w, :] = cnt
            cnt += 1
    mw = window_partition(img_mask, ws).view(-1, ws * ws)
    m = mw.unsqueeze(1) - mw.unsqueeze(2)
    return m.masked_fill(m != 0, float(-100.0)).masked_fill(m == 0, float(0.0))


def rel_index(ws, heads):
    a = ShiftedWindowAttention(8 * heads, [ws, ws], [0, 0], heads)
    return a.relative_position_index.view(ws * ws, ws * ws).to(torch.int64).clone()


def main():
    g = torch.Generator().manual_seed(22)
    rnd = lambda *s: torch.randn(*s, generator=g) * 0.1
    c = CFG
    e, p, ws = c["embed_dim"], c["patch_size"], c["window_size"]
    sd = OrderedDict()
    sd["patch_embed.proj.weight"] = rnd(e, 3, p, p)
    sd["patch_embed.proj.bias"] = rnd(e)
    sd["patch_embed.norm.weight"] = 1 + rnd(e)
    sd["patch_embed.norm.bias"] = rnd(e)
    res0 = c["img_size"] // p
    for s, (depth, heads) in enumerate(zip(c["depths"], c["num_heads"])):
        d, res = e << s, res0 >> s
        w = min(ws, res)
        for j in range(depth):
            b = f"layers.{s}.blocks.{j}."
            sd[b + "norm1.weight"] = 1 + rnd(d)
            sd[b + "norm1.bias"] = rnd(d)
            sd[b + "attn.relative_position_bias_table"] = rnd((2 * w - 1) ** 2, heads)
            sd[b + "attn.relative_position_index"] = rel_index(w, heads)
            sd[b + "attn.qkv.weight"] = rnd(3 * d, d)
            sd[b + "attn.qkv.bias"] = rnd(3 * d)
            sd[b + "attn.proj.weight"] = rnd(d, d)
            sd[b + "attn.proj.bias"] = rnd(d)
            sd[b + "norm2.weight"] = 1 + rnd(d)
            sd[b + "norm2.bias"] = rnd(d)
            hid = int(d * c["mlp_ratio"])
            sd[b + "mlp.fc1.weight"] = rnd(hid, d)
            sd[b + "mlp.fc1.bias"] = rnd(hid)
            sd[b + "mlp.fc2.weight"] = rnd(d, hid)
            sd[b + "mlp.fc2.bias"] = rnd(d)
            if j % 2 == 1 and res > ws:
                sd[b + "attn_mask"] = official_mask(res, ws, ws // 2)
        if s < len(c["depths"]) - 1:
            sd[f"layers.{s}.downsample.reduction.weight"] = rnd(2 * d, 4 * d)
            sd[f"layers.{s}.downsample.norm.weight"] = 1 + rnd(4 * d)
            sd[f"layers.{s}.downsample.norm.bias"] = rnd(4 * d)
    nf = e << (len(c["depths"]) - 1)
    sd["norm.weight"] = 1 + rnd(nf)
    sd["norm.bias"] = rnd(nf)
    sd["head.weight"] = rnd(c["num_classes"], nf)
    sd["head.bias"] = rnd(c["num_classes"])

    timm = OrderedDict()
    for k, v in sd.items():
        if k.endswith("relative_position_index") or k.endswith("attn_mask"):
            continue
        if ".downsample." in k:
            s = int(k.split(".")[1])
            k = k.replace(f"layers.{s}.downsample", f"layers.{s + 1}.downsample")
        k = k.replace("head.", "head.fc.")
        timm[k] = v

    os.makedirs(OUT, exist_ok=True)
    write_safetensors(os.path.join(OUT, "official.safetensors"), sd)
    write_safetensors(os.path.join(OUT, "timm.safetensors"), timm)
    with open(os.path.join(OUT, "config.json"), "w") as f:
        json.dump(c, f, indent=2)
        f.write("\n")


if __name__ == "__main__":
    main()
