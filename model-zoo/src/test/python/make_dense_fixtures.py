#!/usr/bin/env python3
"""Generates the PyTorch references for the dense heads (ai.pela.zoo.dense).

Run from the repository root with Debian's Python (it has torch):

    /usr/bin/python3 model-zoo/src/test/python/make_dense_fixtures.py

Rewrites model-zoo/src/test/resources/dense/ (deterministic: fixed seeds, float32, CPU, one thread).
mmseg and mmdet are not installable here, so their modules are written out by hand below with their
structure and state-dict keys:

  * mmseg's ViT backbone path: a timm ViT (make_fixtures.ViT) at the dense input size, pos_embed resized by
    mmseg's resize_pos_embed (bicubic, align_corners=False), block outputs as maps, final_norm on the last block;
  * mmseg's MultiLevelNeck and UPerHead (PPM, FPN, fpn_bottleneck, conv_seg), ConvModules with GroupNorm + ReLU;
  * detectron2's SimpleFeaturePyramid (ViTDet) and mmdet's FCOSHead (norm_on_bbox, centerness_on_reg,
    center_sampling, GIoU), its get_targets and its losses (sigmoid focal, GIoU, centerness BCE).
"""

import math
import os
import shutil
import sys
from collections import OrderedDict

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_fixtures import (ViT, init_weights, write_safetensors, save_npy, save_json,  # noqa: E402
                           check, max_abs, REPO_ROOT)

torch.set_default_dtype(torch.float32)
torch.use_deterministic_algorithms(True)
torch.set_num_threads(1)

OUT_DIR = os.path.join(REPO_ROOT, "model-zoo", "src", "test", "resources", "dense")

VIT_CFG = OrderedDict([
    ("img_size", 16), ("patch_size", 4), ("in_chans", 3), ("embed_dim", 16), ("depth", 4), ("num_heads", 2),
    ("mlp_ratio", 2.0), ("num_classes", 10), ("global_pool", "token"), ("class_token", True), ("qkv_bias", True),
])
DENSE_SIZE = 32       # UperNet runs at twice the ViT's size (pos_embed resized 4x4 -> 8x8)
FCOS_SIZE = 16        # FCOS at the ViT's own size, so its five outputs stay small

UPERNET_CFG = OrderedDict([
    ("type", "upernet"), ("img_size", DENSE_SIZE), ("out_indices", [0, 1, 2, 3]), ("final_norm", True),
    ("neck_channels", 8), ("neck_scales", [4, 2, 1, 0.5]), ("channels", 8), ("pool_scales", [1, 2, 3, 6]),
    ("num_classes", 5), ("gn_groups", 2),
])

FCOS_CFG = OrderedDict([
    ("type", "fcos"), ("img_size", FCOS_SIZE), ("out_index", 3), ("sfp_scales", [4, 2, 1, 0.5]), ("channels", 8),
    ("stacked_convs", 2), ("num_classes", 3), ("gn_groups", 2),
    ("regress_ranges", [[-1, 2], [2, 4], [4, 8], [8, 100000000.0]]), ("center_sample_radius", 1.5),
    ("focal_alpha", 0.25), ("focal_gamma", 2.0), ("score_thr", 0.05), ("nms_pre", 1000), ("nms_iou", 0.5),
    ("max_per_img", 100), ("category_ids", [1, 2, 3]),
])


def randomise(module, seed):
    """Weights like make_fixtures.init_weights: N(0, 0.1²) truncated, norms 1 + N(0, 0.1²), biases N(0, 0.05²)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in module.named_parameters():
            if name.endswith("scale"):
                p.copy_(1.0 + torch.randn(p.shape, generator=g) * 0.2)
            elif (".gn." in name or ".norm." in name or name.endswith("1.weight") and p.dim() == 1) \
                    and name.endswith(".weight"):
                p.copy_(1.0 + torch.randn(p.shape, generator=g) * 0.1)
            elif name.endswith(".bias"):
                p.copy_(torch.randn(p.shape, generator=g) * 0.05)
            else:
                v = torch.randn(p.shape, generator=g) * 0.1
                p.copy_(v.clamp(-0.2, 0.2))


# --------------------------------------------------------------------------------------
# mmseg's ViT as a dense backbone
# --------------------------------------------------------------------------------------

def resize_pos_embed(pos_embed, from_grid, to_grid):
    """mmseg's VisionTransformer.resize_pos_embed (class token kept, grid part bicubic, align_corners=False)."""
    if from_grid == to_grid:
        return pos_embed.clone()
    cls_w = pos_embed[:, :1]
    grid = pos_embed[:, 1:].reshape(1, from_grid, from_grid, -1).permute(0, 3, 1, 2)
    grid = F.interpolate(grid, size=(to_grid, to_grid), mode="bicubic", align_corners=False)
    grid = torch.flatten(grid, 2).transpose(1, 2)
    return torch.cat((cls_w, grid), dim=1)


class DenseViT(nn.Module):
    """The classification ViT at the dense size; returns the maps of out_indices (final norm on the last block)."""

    def __init__(self, vit_sd, out_indices, final_norm, size):
        super().__init__()
        cfg = OrderedDict(VIT_CFG)
        cfg["img_size"] = size
        self.vit = ViT(cfg)
        sd = OrderedDict(vit_sd)
        sd["pos_embed"] = resize_pos_embed(vit_sd["pos_embed"], VIT_CFG["img_size"] // VIT_CFG["patch_size"],
                                           size // VIT_CFG["patch_size"])
        self.vit.load_state_dict(sd, strict=True)
        self.out_indices = out_indices
        self.final_norm = final_norm
        self.grid = size // VIT_CFG["patch_size"]

    def forward(self, x):
        v = self.vit
        x = v.patch_embed(x)
        x = torch.cat([v.cls_token.expand(x.shape[0], -1, -1), x], dim=1) + v.pos_embed
        outs = []
        for i, blk in enumerate(v.blocks):
            x = blk(x)
            if i == len(v.blocks) - 1 and self.final_norm:
                x = v.norm(x)
            if i in self.out_indices:
                t = x[:, 1:]
                outs.append(t.reshape(t.shape[0], self.grid, self.grid, -1).permute(0, 3, 1, 2).contiguous())
        return outs

    def used_state(self, last_block, with_norm):
        """The backbone tensors the Java dense model keeps, prefixed."""
        out = OrderedDict()
        for k, t in self.vit.state_dict().items():
            if k.startswith("head.") or (k.startswith("norm.") and not with_norm):
                continue
            if k.startswith("blocks.") and int(k.split(".")[1]) > last_block:
                continue
            out["backbone." + k] = t
        return out


# --------------------------------------------------------------------------------------
# mmcv / mmseg modules
# --------------------------------------------------------------------------------------

class ConvModule(nn.Module):
    """mmcv ConvModule(conv, norm=GN, act=ReLU): conv without bias before the norm; keys .conv / .gn."""

    def __init__(self, cin, cout, k, groups):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, k, padding=k // 2, bias=False)
        self.gn = nn.GroupNorm(groups, cout)

    def forward(self, x):
        return F.relu(self.gn(self.conv(x)))


class PlainConv(nn.Module):
    """mmcv ConvModule without norm and act (MultiLevelNeck's): a conv with bias under .conv."""

    def __init__(self, cin, cout, k):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, k, padding=k // 2)

    def forward(self, x):
        return self.conv(x)


def resize(x, size=None, scale_factor=None):
    return F.interpolate(x, size=size, scale_factor=scale_factor, mode="bilinear", align_corners=False)


class MultiLevelNeck(nn.Module):
    def __init__(self, cin, cout, scales):
        super().__init__()
        self.scales = scales
        self.lateral_convs = nn.ModuleList([PlainConv(cin, cout, 1) for _ in scales])
        self.convs = nn.ModuleList([PlainConv(cout, cout, 3) for _ in scales])

    def forward(self, inputs):
        inputs = [lc(inputs[i]) for i, lc in enumerate(self.lateral_convs)]
        return [self.convs[i](resize(inputs[i], scale_factor=s)) for i, s in enumerate(self.scales)]


class PPM(nn.ModuleList):
    def __init__(self, pool_scales, cin, ch, groups):
        super().__init__()
        for s in pool_scales:
            self.append(nn.Sequential(nn.AdaptiveAvgPool2d(s), ConvModule(cin, ch, 1, groups)))

    def forward(self, x):
        return [resize(ppm(x), size=x.shape[2:]) for ppm in self]


class UPerHead(nn.Module):
    def __init__(self, cin, ch, pool_scales, num_classes, groups, levels):
        super().__init__()
        self.psp_modules = PPM(pool_scales, cin, ch, groups)
        self.bottleneck = ConvModule(cin + len(pool_scales) * ch, ch, 3, groups)
        self.lateral_convs = nn.ModuleList([ConvModule(cin, ch, 1, groups) for _ in range(levels - 1)])
        self.fpn_convs = nn.ModuleList([ConvModule(ch, ch, 3, groups) for _ in range(levels - 1)])
        self.fpn_bottleneck = ConvModule(levels * ch, ch, 3, groups)
        self.conv_seg = nn.Conv2d(ch, num_classes, 1)

    def psp_forward(self, inputs):
        x = inputs[-1]
        return self.bottleneck(torch.cat([x] + self.psp_modules(x), dim=1))

    def forward(self, inputs):
        laterals = [lc(inputs[i]) for i, lc in enumerate(self.lateral_convs)]
        laterals.append(self.psp_forward(inputs))
        n = len(laterals)
        for i in range(n - 1, 0, -1):
            laterals[i - 1] = laterals[i - 1] + resize(laterals[i], size=laterals[i - 1].shape[2:])
        outs = [self.fpn_convs[i](laterals[i]) for i in range(n - 1)]
        outs.append(laterals[-1])
        for i in range(n - 1, 0, -1):
            outs[i] = resize(outs[i], size=outs[0].shape[2:])
        return self.conv_seg(self.fpn_bottleneck(torch.cat(outs, dim=1)))


class UperNetModel(nn.Module):
    def __init__(self, vit_sd, c):
        super().__init__()
        self.backbone = DenseViT(vit_sd, c["out_indices"], c["final_norm"], c["img_size"])
        D = VIT_CFG["embed_dim"]
        self.neck = MultiLevelNeck(D, c["neck_channels"], c["neck_scales"])
        self.decode_head = UPerHead(c["neck_channels"], c["channels"], c["pool_scales"], c["num_classes"],
                                    c["gn_groups"], len(c["out_indices"]))

    def forward(self, x):
        logits = self.decode_head(self.neck(self.backbone(x)))
        return resize(logits, size=x.shape[2:])


# --------------------------------------------------------------------------------------
# detectron2 SimpleFeaturePyramid + mmdet FCOS
# --------------------------------------------------------------------------------------

class LayerNorm2d(nn.Module):
    """detectron2.layers.LayerNorm: over channels per pixel, eps 1e-6."""

    def __init__(self, c):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(c))
        self.bias = nn.Parameter(torch.zeros(c))

    def forward(self, x):
        u = x.mean(1, keepdim=True)
        s = (x - u).pow(2).mean(1, keepdim=True)
        x = (x - u) / torch.sqrt(s + 1e-6)
        return self.weight[:, None, None] * x + self.bias[:, None, None]


class D2Conv(nn.Conv2d):
    """detectron2.layers.Conv2d with a norm (no bias): keys .weight and .norm.*."""

    def __init__(self, cin, cout, k):
        super().__init__(cin, cout, k, padding=k // 2, bias=False)
        self.norm = LayerNorm2d(cout)

    def forward(self, x):
        return self.norm(super().forward(x))


class SimpleFeaturePyramid(nn.Module):
    def __init__(self, dim, out, scales):
        super().__init__()
        self.stages = []
        for s in scales:
            if s == 4.0:
                layers = [nn.ConvTranspose2d(dim, dim // 2, 2, 2), LayerNorm2d(dim // 2), nn.GELU(),
                          nn.ConvTranspose2d(dim // 2, dim // 4, 2, 2)]
                od = dim // 4
            elif s == 2.0:
                layers = [nn.ConvTranspose2d(dim, dim // 2, 2, 2)]
                od = dim // 2
            elif s == 1.0:
                layers = []
                od = dim
            else:
                layers = [nn.MaxPool2d(2, 2)]
                od = dim
            layers += [D2Conv(od, out, 1), D2Conv(out, out, 3)]
            name = f"simfp_{4 - int(round(math.log2(s)))}"
            self.add_module(name, nn.Sequential(*layers))
            self.stages.append(name)

    def forward(self, x):
        return [getattr(self, n)(x) for n in self.stages]


class Scale(nn.Module):
    def __init__(self):
        super().__init__()
        self.scale = nn.Parameter(torch.ones(1))

    def forward(self, x):
        return x * self.scale


class FCOSHead(nn.Module):
    def __init__(self, ch, classes, stacked, groups, levels):
        super().__init__()
        self.cls_convs = nn.ModuleList([ConvModule(ch, ch, 3, groups) for _ in range(stacked)])
        self.reg_convs = nn.ModuleList([ConvModule(ch, ch, 3, groups) for _ in range(stacked)])
        self.conv_cls = nn.Conv2d(ch, classes, 3, padding=1)
        self.conv_reg = nn.Conv2d(ch, 4, 3, padding=1)
        self.conv_centerness = nn.Conv2d(ch, 1, 3, padding=1)
        self.scales = nn.ModuleList([Scale() for _ in range(levels)])

    def forward_single(self, x, scale):
        cls_feat, reg_feat = x, x
        for m in self.cls_convs:
            cls_feat = m(cls_feat)
        for m in self.reg_convs:
            reg_feat = m(reg_feat)
        cls = self.conv_cls(cls_feat)
        reg = F.relu(scale(self.conv_reg(reg_feat)))     # norm_on_bbox, training mode: distances in strides
        ctr = self.conv_centerness(reg_feat)             # centerness_on_reg
        return cls, reg, ctr

    def forward(self, feats):
        return [self.forward_single(f, s) for f, s in zip(feats, self.scales)]


class FcosModel(nn.Module):
    def __init__(self, vit_sd, c):
        super().__init__()
        self.backbone = DenseViT(vit_sd, [c["out_index"]], False, c["img_size"])
        self.neck = SimpleFeaturePyramid(VIT_CFG["embed_dim"], c["channels"], c["sfp_scales"])
        self.bbox_head = FCOSHead(c["channels"], c["num_classes"], c["stacked_convs"], c["gn_groups"],
                                  len(c["sfp_scales"]))

    def forward(self, x):
        outs = self.bbox_head(self.neck(self.backbone(x)[-1]))
        flat = []
        for j, width in enumerate((FCOS_CFG["num_classes"], 4, 1)):
            flat.append(torch.cat([o[j].permute(0, 2, 3, 1).reshape(x.shape[0], -1, width) for o in outs], 1)
                        .reshape(-1, width))
        return flat, [o[0].shape[-1] for o in outs]


def fcos_points(sides, strides):
    pts, st = [], []
    for side, s in zip(sides, strides):
        ys, xs = torch.meshgrid(torch.arange(side, dtype=torch.float64), torch.arange(side, dtype=torch.float64),
                                indexing="ij")
        p = torch.stack(((xs.reshape(-1) + 0.5) * s, (ys.reshape(-1) + 0.5) * s), -1)
        pts.append(p)
        st.append(torch.full((side * side,), float(s), dtype=torch.float64))
    return pts, st


def fcos_target_single(gt_bboxes, gt_labels, points, regress_ranges, num_points_per_lvl, strides, radius, bg):
    """mmdet FCOSHead._get_target_single with center_sampling=True (float64)."""
    num_points = points.size(0)
    num_gts = gt_labels.size(0)
    areas = (gt_bboxes[:, 2] - gt_bboxes[:, 0]) * (gt_bboxes[:, 3] - gt_bboxes[:, 1])
    areas = areas[None].repeat(num_points, 1)
    regress_ranges = regress_ranges[:, None, :].expand(num_points, num_gts, 2)
    gt_bboxes = gt_bboxes[None].expand(num_points, num_gts, 4)
    xs, ys = points[:, 0], points[:, 1]
    xs = xs[:, None].expand(num_points, num_gts)
    ys = ys[:, None].expand(num_points, num_gts)
    left = xs - gt_bboxes[..., 0]
    right = gt_bboxes[..., 2] - xs
    top = ys - gt_bboxes[..., 1]
    bottom = gt_bboxes[..., 3] - ys
    bbox_targets = torch.stack((left, top, right, bottom), -1)
    center_xs = (gt_bboxes[..., 0] + gt_bboxes[..., 2]) / 2
    center_ys = (gt_bboxes[..., 1] + gt_bboxes[..., 3]) / 2
    center_gts = torch.zeros_like(gt_bboxes)
    stride = center_xs.new_zeros(center_xs.shape)
    lvl_begin = 0
    for lvl_idx, n in enumerate(num_points_per_lvl):
        stride[lvl_begin:lvl_begin + n] = strides[lvl_idx] * radius
        lvl_begin += n
    x_mins = center_xs - stride
    y_mins = center_ys - stride
    x_maxs = center_xs + stride
    y_maxs = center_ys + stride
    center_gts[..., 0] = torch.where(x_mins > gt_bboxes[..., 0], x_mins, gt_bboxes[..., 0])
    center_gts[..., 1] = torch.where(y_mins > gt_bboxes[..., 1], y_mins, gt_bboxes[..., 1])
    center_gts[..., 2] = torch.where(x_maxs > gt_bboxes[..., 2], gt_bboxes[..., 2], x_maxs)
    center_gts[..., 3] = torch.where(y_maxs > gt_bboxes[..., 3], gt_bboxes[..., 3], y_maxs)
    cb = torch.stack((xs - center_gts[..., 0], ys - center_gts[..., 1], center_gts[..., 2] - xs,
                      center_gts[..., 3] - ys), -1)
    inside_gt_bbox_mask = cb.min(-1)[0] > 0
    max_regress_distance = bbox_targets.max(-1)[0]
    inside_regress_range = (max_regress_distance >= regress_ranges[..., 0]) & \
                           (max_regress_distance <= regress_ranges[..., 1])
    INF = 1e8
    areas[inside_gt_bbox_mask == 0] = INF
    areas[inside_regress_range == 0] = INF
    min_area, min_area_inds = areas.min(dim=1)
    labels = gt_labels[min_area_inds].clone()
    labels[min_area == INF] = bg
    bbox_targets = bbox_targets[range(num_points), min_area_inds]
    return labels, bbox_targets


def centerness_target(pos_bbox_targets):
    lr = pos_bbox_targets[:, [0, 2]]
    tb = pos_bbox_targets[:, [1, 3]]
    c = (lr.min(dim=-1)[0] / lr.max(dim=-1)[0]) * (tb.min(dim=-1)[0] / tb.max(dim=-1)[0])
    return torch.sqrt(c)


def py_sigmoid_focal_loss(pred, target, gamma=2.0, alpha=0.25):
    p = pred.sigmoid()
    pt = (1 - p) * target + p * (1 - target)
    w = (alpha * target + (1 - alpha) * (1 - target)) * pt.pow(gamma)
    return F.binary_cross_entropy_with_logits(pred, target, reduction="none") * w


def giou_loss(pred, target, eps=1e-6):
    """mmdet bbox_overlaps(mode='giou', is_aligned=True) → 1 - giou, per box."""
    area1 = (pred[:, 2] - pred[:, 0]) * (pred[:, 3] - pred[:, 1])
    area2 = (target[:, 2] - target[:, 0]) * (target[:, 3] - target[:, 1])
    lt = torch.max(pred[:, :2], target[:, :2])
    rb = torch.min(pred[:, 2:], target[:, 2:])
    wh = (rb - lt).clamp(min=0)
    overlap = wh[:, 0] * wh[:, 1]
    union = torch.max(area1 + area2 - overlap, torch.tensor(eps))
    ious = overlap / union
    elt = torch.min(pred[:, :2], target[:, :2])
    erb = torch.max(pred[:, 2:], target[:, 2:])
    ewh = (erb - elt).clamp(min=0)
    enclose = torch.max(ewh[:, 0] * ewh[:, 1], torch.tensor(eps))
    return 1 - (ious - (enclose - union) / enclose)


def distance2bbox(points, d):
    return torch.stack((points[:, 0] - d[:, 0], points[:, 1] - d[:, 1], points[:, 0] + d[:, 2],
                        points[:, 1] + d[:, 3]), -1)


def fcos_loss(flat, gts, sides, strides, c):
    """mmdet FCOSHead.loss with norm_on_bbox, centre sampling, GIoU, focal and centerness BCE."""
    cls, reg, ctr = flat
    pts, st = fcos_points(sides, strides)
    points = torch.cat(pts)
    ranges = torch.cat([torch.tensor([r], dtype=torch.float64).expand(p.shape[0], 2)
                        for r, p in zip(c["regress_ranges"], pts)])
    K = c["num_classes"]
    labels_all, targets_all = [], []
    for boxes, labels in gts:
        lb, bt = fcos_target_single(boxes, labels, points, ranges, [p.shape[0] for p in pts], strides,
                                    c["center_sample_radius"], K)
        labels_all.append(lb)
        targets_all.append(bt / torch.cat(st)[:, None])  # norm_on_bbox
    flat_labels = torch.cat(labels_all)
    flat_targets = torch.cat(targets_all).float()
    flat_points = points.repeat(len(gts), 1).float()
    pos = ((flat_labels >= 0) & (flat_labels < K)).nonzero().reshape(-1)
    num_pos = max(float(len(pos)), 1.0)
    onehot = torch.zeros(flat_labels.shape[0], K)
    onehot[pos, flat_labels[pos]] = 1.0
    loss_cls = py_sigmoid_focal_loss(cls, onehot, c["focal_gamma"], c["focal_alpha"]).sum() / num_pos
    pos_reg = reg[pos]
    pos_t = flat_targets[pos]
    ctr_t = centerness_target(pos_t)
    denorm = max(ctr_t.sum().item(), 1e-6)
    pos_pts = flat_points[pos]
    loss_bbox = (giou_loss(distance2bbox(pos_pts, pos_reg), distance2bbox(pos_pts, pos_t)) * ctr_t).sum() / denorm
    loss_ctr = F.binary_cross_entropy_with_logits(ctr[pos].reshape(-1), ctr_t, reduction="sum") / num_pos
    return loss_cls, loss_bbox, loss_ctr, flat_labels, flat_targets, ctr_t, pos


# --------------------------------------------------------------------------------------
# fixture sets
# --------------------------------------------------------------------------------------

def make_vit():
    vit = ViT(VIT_CFG)
    vit.eval()
    init_weights(vit, 11)
    return OrderedDict((k, v.detach().clone().contiguous()) for k, v in vit.state_dict().items())


def head_state(model, prefixes):
    return OrderedDict((k, v.detach().clone().contiguous()) for k, v in model.state_dict().items()
                       if k.split(".")[0] in prefixes)


def grads_of(model, loss, names):
    params = dict(model.named_parameters())
    java = {n: ("backbone." + n[len("backbone.vit."):]) if n.startswith("backbone.vit.") else n for n in params}
    wanted = [n for n in params if java[n] in names]
    gs = torch.autograd.grad(loss, [params[n] for n in wanted])
    return OrderedDict((java[n], g.detach().contiguous()) for n, g in zip(wanted, gs))


def check_resize_pos_embed(vit_sd):
    """Independent check of the bicubic pos_embed resize by scipy-free separable formula in float64."""
    pe = vit_sd["pos_embed"].double()
    ref = resize_pos_embed(pe, 4, 8)
    a = -0.75

    def w(t):
        t = abs(t)
        return ((a + 2) * t - (a + 3)) * t * t + 1 if t <= 1 else ((a * t - 5 * a) * t + 8 * a) * t - 4 * a

    M = torch.zeros(8, 4, dtype=torch.float64)
    for i in range(8):
        src = (i + 0.5) * 0.5 - 0.5
        f = math.floor(src)
        for k in range(-1, 3):
            M[i, min(max(f + k, 0), 3)] += w(src - (f + k))
    grid = pe[0, 1:].reshape(4, 4, -1)
    by_hand = torch.einsum("ay,bx,yxd->abd", M, M, grid).reshape(64, -1)
    check(max_abs(by_hand, ref[0, 1:]), 1e-6, "bicubic pos_embed resize vs separable Keys cubic (a = -0.75)")


def gen_upernet(vit_sd, x):
    print("dense/upernet")
    torch.manual_seed(0)
    model = UperNetModel(vit_sd, UPERNET_CFG)
    randomise(model.neck, 21)
    randomise(model.decode_head, 22)
    model.train()
    logits = model(x)
    assert logits.shape == (2, 5, DENSE_SIZE, DENSE_SIZE), logits.shape
    g = torch.Generator().manual_seed(23)
    labels = torch.randint(0, 5, (2, DENSE_SIZE, DENSE_SIZE), generator=g)
    labels[torch.rand(labels.shape, generator=g) < 0.3] = 255
    loss = F.cross_entropy(logits, labels, ignore_index=255)
    names = ["decode_head.conv_seg.weight", "decode_head.psp_modules.2.1.conv.weight", "neck.convs.3.conv.weight",
             "backbone.blocks.0.attn.qkv.weight", "backbone.pos_embed", "backbone.norm.weight"]
    grads = grads_of(model, loss, names)
    assert list(sorted(grads)) == sorted(names), grads.keys()
    save_json(os.path.join(OUT_DIR, "upernet_head.json"), UPERNET_CFG)
    write_safetensors(os.path.join(OUT_DIR, "upernet_head.safetensors"), head_state(model, ("neck", "decode_head")))
    save_npy(os.path.join(OUT_DIR, "upernet_logits.npy"), logits)
    np.save(os.path.join(OUT_DIR, "upernet_labels.npy"), labels.numpy().astype(np.int32))
    out = OrderedDict([("loss", loss.detach().reshape(1))])
    out.update(("grad." + k, v) for k, v in grads.items())
    write_safetensors(os.path.join(OUT_DIR, "upernet_loss.safetensors"), out)
    print(f"  loss {loss.item():.6f}")


def gen_fcos(vit_sd, x):
    print("dense/fcos")
    model = FcosModel(vit_sd, FCOS_CFG)
    randomise(model.neck, 31)
    randomise(model.bbox_head, 32)
    model.train()
    flat, sides = model(x)
    strides = [VIT_CFG["patch_size"] / s for s in FCOS_CFG["sfp_scales"]]
    assert sides == [16, 8, 4, 2], sides
    gts = [
        (torch.tensor([[1.0, 1.5, 7.0, 6.0], [8.0, 7.0, 15.0, 15.5], [2.0, 10.0, 4.5, 13.0]], dtype=torch.float64),
         torch.tensor([0, 2, 1])),
        (torch.tensor([[0.0, 0.0, 16.0, 12.0], [5.0, 5.0, 7.0, 6.5]], dtype=torch.float64), torch.tensor([1, 1])),
    ]
    loss_cls, loss_bbox, loss_ctr, labels, targets, ctr_t, pos = fcos_loss(flat, gts, sides, strides, FCOS_CFG)
    loss = loss_cls + loss_bbox + loss_ctr
    print(f"  positives {len(pos)}, loss cls {loss_cls.item():.6f} bbox {loss_bbox.item():.6f} "
          f"centerness {loss_ctr.item():.6f}")
    assert len(pos) > 10
    names = ["bbox_head.conv_cls.weight", "bbox_head.conv_reg.bias", "bbox_head.conv_centerness.weight",
             "bbox_head.scales.1.scale", "bbox_head.reg_convs.0.conv.weight", "neck.simfp_2.0.weight",
             "neck.simfp_5.2.norm.weight", "backbone.blocks.3.mlp.fc2.weight"]
    grads = grads_of(model, loss, names)
    assert sorted(grads) == sorted(names), grads.keys()
    save_json(os.path.join(OUT_DIR, "fcos_head.json"), FCOS_CFG)
    write_safetensors(os.path.join(OUT_DIR, "fcos_head.safetensors"), head_state(model, ("neck", "bbox_head")))
    out = OrderedDict()
    for name, t in zip(("cls", "reg", "ctr"), flat):
        out["out." + name] = t.detach().contiguous()
    for i, (boxes, lab) in enumerate(gts):
        out[f"gt.{i}.boxes"] = boxes.float()
        out[f"gt.{i}.labels"] = lab.float()
    out["t.labels"] = labels.float()
    out["t.distances"] = targets
    out["t.centerness"] = ctr_t.float()
    out["t.pos"] = pos.float()
    out["loss.cls"] = loss_cls.detach().reshape(1)
    out["loss.bbox"] = loss_bbox.detach().reshape(1)
    out["loss.centerness"] = loss_ctr.detach().reshape(1)
    out.update(("grad." + k, v) for k, v in grads.items())
    write_safetensors(os.path.join(OUT_DIR, "fcos.safetensors"), out)


README = """# Dense-head fixtures (PyTorch references)

Generated by `model-zoo/src/test/python/make_dense_fixtures.py` (Debian's Python with `python3-torch`); regenerate
from the repository root with

    /usr/bin/python3 model-zoo/src/test/python/make_dense_fixtures.py

Deterministic (fixed seeds, float32, CPU, one thread); rewrites this directory. Weights are random like
`../fixtures/` (weights N(0, 0.1^2) clamped at 2 std, norm weights 1 + N(0, 0.1^2), biases N(0, 0.05^2), FCOS
scales 1 + N(0, 0.2^2)); images N(0, 1).

| file | contents |
|---|---|
| `vit.json`, `vit.safetensors` | a timm-named ViT (img 16, patch 4, dim 16, depth 4, 2 heads, mlp 2, class token), the backbone's classifier checkpoint |
| `input.npy` | [2, 3, 32, 32] images for UperNet (the ViT at 32 px: pos_embed resized 4x4 -> 8x8 by mmseg's bicubic `resize_pos_embed`) |
| `upernet_head.json` | out_indices 0-3, final_norm, MultiLevelNeck 8 channels scales 4, 2, 1, 0.5; UPerHead 8 channels, pools 1, 2, 3, 6, 5 classes, GroupNorm(2) |
| `upernet_head.safetensors` | `neck.*` and `decode_head.*` with mmseg's keys |
| `upernet_logits.npy` | [2, 5, 32, 32] logits after the bilinear upsampling to the input |
| `upernet_labels.npy` | [2, 32, 32] int32 labels, 30 % ignored (255) |
| `upernet_loss.safetensors` | `loss` = F.cross_entropy(logits, labels, ignore_index=255); `grad.<key>` of six parameters, from `decode_head.conv_seg.weight` to `backbone.blocks.0.attn.qkv.weight`, `backbone.pos_embed`, `backbone.norm.weight` |
| `input16.npy` | [2, 3, 16, 16] images for FCOS (the ViT at its own size) |
| `fcos_head.json` | last block, ViTDet levels 4, 2, 1, 0.5 (strides 1, 2, 4, 8), 8 channels, 2 convs per tower, 3 classes, ranges (-1, 2, 4, 8, inf), centre radius 1.5 |
| `fcos_head.safetensors` | `neck.simfp_{2..5}.*` (detectron2's keys) and `bbox_head.*` (mmdet's) |
| `fcos.safetensors` | `out.{cls,reg,ctr}` flat outputs [680, 3 / 4 / 1] (image, level, row-major pixel); `gt.{0,1}.{boxes,labels}`; mmdet's targets `t.labels` (3 = background), `t.distances` (/ stride), `t.centerness` (positives), `t.pos`; `loss.{cls,bbox,centerness}`; `grad.<key>` of eight parameters down to `backbone.blocks.3.mlp.fc2.weight` |
"""


def main():
    if os.path.isdir(OUT_DIR):
        shutil.rmtree(OUT_DIR)
    os.makedirs(OUT_DIR)
    vit_sd = make_vit()
    check_resize_pos_embed(vit_sd)
    save_json(os.path.join(OUT_DIR, "vit.json"), VIT_CFG)
    write_safetensors(os.path.join(OUT_DIR, "vit.safetensors"), vit_sd)
    x = torch.randn(2, 3, DENSE_SIZE, DENSE_SIZE, generator=torch.Generator().manual_seed(5))
    save_npy(os.path.join(OUT_DIR, "input.npy"), x)
    gen_upernet(vit_sd, x)
    x16 = torch.randn(2, 3, FCOS_SIZE, FCOS_SIZE, generator=torch.Generator().manual_seed(6))
    save_npy(os.path.join(OUT_DIR, "input16.npy"), x16)
    gen_fcos(vit_sd, x16)
    with open(os.path.join(OUT_DIR, "README.md"), "w") as f:
        f.write(README)
    total = sum(os.path.getsize(os.path.join(OUT_DIR, f)) for f in os.listdir(OUT_DIR))
    print(f"total dense fixture size: {total} bytes ({total / 1024:.1f} KiB)")


if __name__ == "__main__":
    sys.exit(main())
