#!/usr/bin/python3
"""PyTorch reference for `pela bench`: the same PELA step (or forward, or sgemm) as the Java side, timed.

The model is rebuilt from the timm-style config.json files the Java side writes (the student's carries the
low-rank ranks), so both sides run exactly the same shapes. Weights are random: only speed is measured.

Modes:
  step     teacher forward (no grad) + student forward/backward on CE(label smoothing 0.1) + alpha*L_fd + beta*L_rwp
           (code forms), grad-norm clipping at 5, AdamW (wd 0.05) -- what ai.pela.zoo.train.PelaStep computes.
  teacher  / student   inference forward (logits only) of one model under torch.inference_mode(); a ViT, or a
           Swin (official layout, PELA's decomposed Linears) when the config has depths + window_size.
  sgemm    C = A @ B on n x n float32 matrices with torch and with numpy.
  data     one pass over the JPEG files in --images (bytes preloaded): PIL decode, torchvision RandomResizedCrop(224)
           + RandomHorizontalFlip + ToTensor + Normalize, on one thread (a data-loader worker's work).

With --serve the script prints one JSON header line, then reads lines "N" from stdin and answers each with a JSON
list of N timings in seconds (so the Java side can alternate its own repetitions with these ones while this
process sleeps on stdin); "quit" ends it. Without --serve it prints the median of --steps timings.

Run with Debian's torch: /usr/bin/python3 bench/pela_torch.py --mode step --teacher t.json --student s.json
"""
import argparse
import resource
import json
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


def blas_library():
    """The BLAS shared object actually mapped into this process (Debian's torch reports BLAS_INFO=generic and
    links libblas.so.3, which the alternatives system points at OpenBLAS or at the slow reference BLAS)."""
    torch.mm(torch.ones(64, 64), torch.ones(64, 64))
    libs = set()
    with open("/proc/self/maps") as maps:
        for line in maps:
            path = line.split()[-1]
            if "blas" in path or "lapack" in path:
                libs.add(path)
    return sorted(libs)


class Linear(nn.Module):
    """A timm Linear, or PELA's decomposed pair (name.0: d_in -> r without bias, name.1: r -> d_out)."""

    def __init__(self, d_in, d_out, rank, bias=True):
        super().__init__()
        if rank:
            self.lr = nn.Sequential(nn.Linear(d_in, rank, bias=False), nn.Linear(rank, d_out, bias=bias))
        else:
            self.lr = nn.Linear(d_in, d_out, bias=bias)

    def forward(self, x):
        return self.lr(x)

    def factors(self):
        return (self.lr[0].weight, self.lr[1].weight) if isinstance(self.lr, nn.Sequential) else None


class Block(nn.Module):
    def __init__(self, cfg, i, ranks):
        super().__init__()
        d, hidden = cfg["embed_dim"], int(cfg["embed_dim"] * cfg["mlp_ratio"])
        self.heads = cfg["num_heads"]
        r = lambda n: ranks.get(f"blocks.{i}.{n}", 0)
        self.norm1 = nn.LayerNorm(d, eps=1e-6)
        self.qkv = Linear(d, 3 * d, r("attn.qkv"), cfg.get("qkv_bias", True))
        self.proj = Linear(d, d, r("attn.proj"))
        self.norm2 = nn.LayerNorm(d, eps=1e-6)
        self.fc1 = Linear(d, hidden, r("mlp.fc1"))
        self.fc2 = Linear(hidden, d, r("mlp.fc2"))

    def forward(self, x):
        n, t, d = x.shape
        hd = d // self.heads
        qkv = self.qkv(self.norm1(x)).reshape(n, t, 3, self.heads, hd).permute(2, 0, 3, 1, 4)
        q, k, v = qkv.unbind(0)
        attn = ((q * hd ** -0.5) @ k.transpose(-2, -1)).softmax(dim=-1)
        x = x + self.proj((attn @ v).transpose(1, 2).reshape(n, t, d))
        return x + self.fc2(F.gelu(self.fc1(self.norm2(x))))


class Vit(nn.Module):
    """timm's VisionTransformer (class token, token pooling), returning logits and every block's output."""

    def __init__(self, cfg):
        super().__init__()
        ranks = (cfg.get("lowrank") or {}).get("ranks", {})
        d, p = cfg["embed_dim"], cfg["patch_size"]
        patches = (cfg["img_size"] // p) ** 2
        self.patch_embed = nn.Conv2d(cfg.get("in_chans", 3), d, p, p)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, d))
        self.pos_embed = nn.Parameter(torch.randn(1, patches + 1, d) * 0.02)
        self.blocks = nn.ModuleList(Block(cfg, i, ranks) for i in range(cfg["depth"]))
        self.norm = nn.LayerNorm(d, eps=1e-6)
        self.head = nn.Linear(d, cfg["num_classes"])

    def forward(self, x):
        x = self.patch_embed(x).flatten(2).transpose(1, 2)
        x = torch.cat([self.cls_token.expand(x.shape[0], -1, -1), x], dim=1) + self.pos_embed
        feats = []
        for b in self.blocks:
            x = b(x)
            feats.append(x)
        return self.head(self.norm(x)[:, 0]), feats

    def decomposed(self):
        for b in self.blocks:
            for name in ("qkv", "proj", "fc1", "fc2"):
                f = getattr(b, name).factors()
                if f is not None:
                    yield f


def window_partition(x, ws):
    n, h, w, c = x.shape
    x = x.view(n, h // ws, ws, w // ws, ws, c).permute(0, 1, 3, 2, 4, 5)
    return x.reshape(-1, ws * ws, c)


def window_reverse(x, ws, n, h, w):
    c = x.shape[-1]
    x = x.view(n, h // ws, w // ws, ws, ws, c).permute(0, 1, 3, 2, 4, 5)
    return x.reshape(n, h, w, c)


class SwinBlock(nn.Module):
    """The official Swin block (microsoft/Swin-Transformer): windowed attention with the relative position bias,
    shifted by -ws/2 with the -100 region mask on odd blocks, Linears named and decomposed as the official keys."""

    def __init__(self, cfg, s, j, ranks):
        super().__init__()
        d = cfg["embed_dim"] << s
        self.res = (cfg["img_size"] // cfg["patch_size"]) >> s
        self.ws = min(cfg["window_size"], self.res)
        self.shift = cfg["window_size"] // 2 if j % 2 == 1 and self.res > cfg["window_size"] else 0
        self.heads = cfg["num_heads"][s]
        hidden = int(d * cfg["mlp_ratio"])
        r = lambda n: ranks.get(f"layers.{s}.blocks.{j}.{n}", 0)
        self.norm1 = nn.LayerNorm(d)
        self.qkv = Linear(d, 3 * d, r("attn.qkv"), cfg.get("qkv_bias", True))
        self.proj = Linear(d, d, r("attn.proj"))
        self.norm2 = nn.LayerNorm(d)
        self.fc1 = Linear(d, hidden, r("mlp.fc1"))
        self.fc2 = Linear(hidden, d, r("mlp.fc2"))
        ws = self.ws
        self.table = nn.Parameter(torch.randn((2 * ws - 1) ** 2, self.heads) * 0.02)
        coords = torch.stack(torch.meshgrid(torch.arange(ws), torch.arange(ws), indexing="ij")).flatten(1)
        rel = (coords[:, :, None] - coords[:, None, :]).permute(1, 2, 0) + (ws - 1)
        self.register_buffer("index", rel[:, :, 0] * (2 * ws - 1) + rel[:, :, 1], persistent=False)
        mask = None
        if self.shift:
            img = torch.zeros(1, self.res, self.res, 1)
            cnt = 0
            for hs in (slice(0, -ws), slice(-ws, -self.shift), slice(-self.shift, None)):
                for wsl in (slice(0, -ws), slice(-ws, -self.shift), slice(-self.shift, None)):
                    img[:, hs, wsl, :] = cnt
                    cnt += 1
            mw = window_partition(img, ws).squeeze(-1)
            mask = (mw[:, None, :] - mw[:, :, None]).ne(0).float() * -100.0
        self.register_buffer("mask", mask, persistent=False)

    def forward(self, x):
        n, t, d = x.shape
        h = w = self.res
        y = self.norm1(x).view(n, h, w, d)
        if self.shift:
            y = torch.roll(y, (-self.shift, -self.shift), (1, 2))
        y = window_partition(y, self.ws)
        b, m, _ = y.shape
        hd = d // self.heads
        qkv = self.qkv(y).reshape(b, m, 3, self.heads, hd).permute(2, 0, 3, 1, 4)
        q, k, v = qkv.unbind(0)
        attn = (q * hd ** -0.5) @ k.transpose(-2, -1)
        attn = attn + self.table[self.index.view(-1)].view(m, m, -1).permute(2, 0, 1).unsqueeze(0)
        if self.mask is not None:
            nw = self.mask.shape[0]
            attn = (attn.view(b // nw, nw, self.heads, m, m) + self.mask[None, :, None]).view(b, self.heads, m, m)
        y = self.proj((attn.softmax(-1) @ v).transpose(1, 2).reshape(b, m, d))
        y = window_reverse(y, self.ws, n, h, w)
        if self.shift:
            y = torch.roll(y, (self.shift, self.shift), (1, 2))
        x = x + y.reshape(n, t, d)
        return x + self.fc2(F.gelu(self.fc1(self.norm2(x))))

    def factors(self):
        for name in ("qkv", "proj", "fc1", "fc2"):
            f = getattr(self, name).factors()
            if f is not None:
                yield f


class Swin(nn.Module):
    """The official Swin Transformer (patch embedding with its norm, stages with patch merging at their end, final
    norm, mean over tokens, head), from a Swin config.json as the Java side writes it."""

    def __init__(self, cfg):
        super().__init__()
        ranks = (cfg.get("lowrank") or {}).get("ranks", {})
        e, p = cfg["embed_dim"], cfg["patch_size"]
        self.patch_embed = nn.Conv2d(cfg.get("in_chans", 3), e, p, p)
        self.patch_norm = nn.LayerNorm(e)
        self.stages = nn.ModuleList()
        self.merges = nn.ModuleList()
        stages = len(cfg["depths"])
        for s, depth in enumerate(cfg["depths"]):
            self.stages.append(nn.ModuleList(SwinBlock(cfg, s, j, ranks) for j in range(depth)))
            if s < stages - 1:
                d = e << s
                self.merges.append(nn.Sequential(nn.LayerNorm(4 * d), nn.Linear(4 * d, 2 * d, bias=False)))
        self.norm = nn.LayerNorm(e << (stages - 1))
        self.head = nn.Linear(e << (stages - 1), cfg["num_classes"])

    def forward(self, x):
        x = self.patch_norm(self.patch_embed(x).flatten(2).transpose(1, 2))
        feats = []
        for s, blocks in enumerate(self.stages):
            for b in blocks:
                x = b(x)
                feats.append(x)
            if s < len(self.merges):
                n, t, d = x.shape
                h = int(t ** 0.5)
                g = x.view(n, h, h, d)
                g = torch.cat([g[:, 0::2, 0::2], g[:, 1::2, 0::2], g[:, 0::2, 1::2], g[:, 1::2, 1::2]], -1)
                x = self.merges[s](g.reshape(n, -1, 4 * d))
        return self.head(self.norm(x).mean(1)), feats

    def decomposed(self):
        for blocks in self.stages:
            for b in blocks:
                yield from b.factors()


def build(cfg):
    """The model a config.json describes: a Swin (depths + window_size) or a ViT."""
    return Swin(cfg) if "depths" in cfg and "window_size" in cfg else Vit(cfg)


class PelaStep:
    """One PELA optimisation step, as ai.pela.zoo.train.PelaStep with alpha = beta = 1, eps 1e-3, clip 5."""

    def __init__(self, teacher, student, batch, cfg, alpha=1.0, beta=1.0, eps=1e-3):
        self.teacher, self.student = teacher.eval(), student.train()
        self.alpha, self.beta, self.eps = alpha, beta, eps
        self.pairs = list(zip(student.decomposed(), self.matching_dense(teacher, student)))
        decay = [p for p in student.parameters() if p.ndim > 1]
        rest = [p for p in student.parameters() if p.ndim <= 1]
        self.opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.05},
                                      {"params": rest, "weight_decay": 0.0}], lr=1e-4)
        self.x = torch.randn(batch, cfg.get("in_chans", 3), cfg["img_size"], cfg["img_size"])
        self.y = torch.arange(batch) % cfg["num_classes"]

    @staticmethod
    def matching_dense(teacher, student):
        out = []
        for tb, sb in zip(teacher.blocks, student.blocks):
            for n in ("qkv", "proj", "fc1", "fc2"):
                if getattr(sb, n).factors() is not None:
                    out.append(getattr(tb, n).lr.weight.detach())
        return out

    def __call__(self):
        with torch.no_grad():
            _, t_feats = self.teacher(self.x)
        logits, s_feats = self.student(self.x)
        loss = F.cross_entropy(logits, self.y, label_smoothing=0.1)
        loss = loss + self.alpha * sum(F.mse_loss(s, t) for s, t in zip(s_feats, t_feats)) / len(s_feats)
        if self.pairs:
            rwp = sum(((w1 @ w0 - w).abs().max() - self.eps) ** 2 for (w0, w1), w in self.pairs) / len(self.pairs)
            loss = loss + self.beta * rwp
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.student.parameters(), 5.0)
        self.opt.step()
        return loss.item()


def data_runner(args):
    import glob
    import io
    from PIL import Image
    from torchvision import transforms
    blobs = [open(f, "rb").read() for f in sorted(glob.glob(args.images + "/*.jpg"))]
    tf = transforms.Compose([transforms.RandomResizedCrop(args.size), transforms.RandomHorizontalFlip(),
                             transforms.ToTensor(),
                             transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])])

    def one_pass():
        for b in blobs:
            tf(Image.open(io.BytesIO(b)).convert("RGB"))
    return {"data": one_pass}, {"images": len(blobs)}


def make_runner(args):
    if args.mode == "data":
        return data_runner(args)
    if args.mode == "sgemm":
        a, b = torch.randn(args.n, args.n), torch.randn(args.n, args.n)
        an, bn = a.numpy().copy(), b.numpy().copy()
        return {"torch": lambda: torch.mm(a, b), "numpy": lambda: an @ bn}, {}
    cfg = json.load(open(args.student if args.mode in ("step", "student") else args.teacher))
    if args.mode in ("teacher", "student"):
        model = build(cfg).eval()
        x = torch.randn(args.batch, cfg.get("in_chans", 3), cfg["img_size"], cfg["img_size"])

        def forward():
            with torch.inference_mode():
                model(x)
        return {args.mode: forward}, {"params": sum(p.numel() for p in model.parameters())}
    if "depths" in cfg:
        raise SystemExit("--mode step: the PyTorch reference step is the ViT's; a Swin is timed in inference only")
    teacher = Vit(json.load(open(args.teacher)))
    for p in teacher.parameters():
        p.requires_grad_(False)
    student = Vit(cfg)
    step = PelaStep(teacher, student, args.batch, cfg)
    return {"step": step}, {"params_teacher": sum(p.numel() for p in teacher.parameters()),
                            "params_student": sum(p.numel() for p in student.parameters())}


def timed(fn, n):
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mode", choices=["step", "teacher", "student", "sgemm", "data"], required=True)
    ap.add_argument("--teacher", help="teacher config.json")
    ap.add_argument("--student", help="student config.json (with lowrank.ranks)")
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--n", type=int, default=2048, help="sgemm matrix size")
    ap.add_argument("--images", help="folder of .jpg files (data mode)")
    ap.add_argument("--size", type=int, default=224, help="crop size (data mode)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--serve", action="store_true")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    runners, info = make_runner(args)
    for fn in runners.values():
        timed(fn, args.warmup)
    header = {"torch": torch.__version__, "numpy": np.__version__, "threads": torch.get_num_threads(),
              "blas": blas_library(), "mkldnn": torch.backends.mkldnn.is_available(),
              # peak resident set after the warm-up, to set next to `pela bench-step`'s
              "max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024, **info}
    if not args.serve:
        print(json.dumps(header))
        for name, fn in runners.items():
            t = sorted(timed(fn, args.steps))
            print(f"{name}: median {t[len(t) // 2]:.4f} s over {len(t)}")
        return
    print(json.dumps(header), flush=True)
    for line in sys.stdin:
        line = line.strip()
        if line == "quit":
            break
        n = int(line)
        print(json.dumps({name: timed(fn, n) for name, fn in runners.items()}), flush=True)


if __name__ == "__main__":
    main()
