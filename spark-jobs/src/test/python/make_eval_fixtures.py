#!/usr/bin/env python3
"""Generates the reference fixtures of the evaluation tests (spark-jobs/src/test/resources/fixtures/{coco,seg}).

Run from the repository root with a Python that has numpy and pycocotools (Debian 12 does not package
pycocotools; this was made with pycocotools 2.0.11 and numpy 2.4 in a virtual environment):

    python3 -m venv /tmp/coco && /tmp/coco/bin/pip install pycocotools
    /tmp/coco/bin/python spark-jobs/src/test/python/make_eval_fixtures.py

Deterministic (fixed seeds); rewrites every file it writes. Contents:

  coco/hand/     hand-made ground truth and results for the tricky parts of COCO's matching rules
  coco/random/   a seeded random set: 60 images, non-contiguous category ids, crowds, jittered and duplicate
                 detections, score ties across images, images with more than 100 detections
  each holds instances.json, results.json and expected.json (pycocotools' 12 stats and per-category AP)

  seg/mmseg_random.json   raw ADE20K-style label maps (0 = other, 255 = ignore) and predictions with the per-class
                          counts and metrics of a numpy transcription of mmseg's total_intersect_and_union
"""
import contextlib
import io
import json
import os

import numpy as np
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

OUT = "spark-jobs/src/test/resources/fixtures"
NAMES = ["AP", "AP50", "AP75", "APs", "APm", "APl", "AR1", "AR10", "AR100", "ARs", "ARm", "ARl"]


def write_json(path, obj, indent=None):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        json.dump(obj, f, indent=indent, sort_keys=False)
        f.write("\n")


# ------------------------------------------------------------------------------------------------------ COCO

def image(i, w=640, h=480):
    return {"id": i, "file_name": f"{i:012d}.jpg", "width": w, "height": h}


def gt(ann_id, img, cat, box, area=None, crowd=0, **extra):
    a = {"id": ann_id, "image_id": img, "category_id": cat, "bbox": box,
         "area": float(box[2] * box[3]) if area is None else area, "iscrowd": crowd, "segmentation": []}
    a.update(extra)
    return a


def det(img, cat, box, score):
    return {"image_id": img, "category_id": cat, "bbox": box, "score": score}


def hand_case():
    """Every rule the Java port must get right, each in its own image."""
    cats = [{"id": 1, "name": "person", "supercategory": "a"},
            {"id": 2, "name": "car", "supercategory": "b"},
            {"id": 3, "name": "absent from the ground truth", "supercategory": "c"},
            {"id": 4, "name": "never detected", "supercategory": "c"}]
    images = [image(i) for i in range(1, 9)]
    anns = [
        # 1: a large and a medium object; an exact hit, a duplicate of it (a false positive), a loose hit
        gt(1, 1, 1, [100, 100, 200, 200]),
        gt(2, 1, 1, [400, 50, 50, 50]),
        # 2: a crowd region with three detections inside it (ignored, never false positives) and a small object
        gt(3, 2, 1, [0, 0, 300, 300], area=60000.0, crowd=1),
        gt(4, 2, 1, [400, 400, 20, 20]),
        # 4: objects nobody detects (false negatives), small and medium
        gt(5, 4, 2, [10, 10, 25, 25]),
        gt(6, 4, 2, [100, 100, 60, 60]),
        # 5: an "ignore" field pycocotools overwrites with iscrowd, so the object counts normally
        gt(7, 5, 2, [50, 50, 100, 100], ignore=1),
        # 6: area (from a mask) far below the box's: medium by area, large by box; IoU exactly 0.5
        gt(8, 6, 1, [0, 0, 100, 100], area=2000.0),
        # 7: a category without detections, and two overlapping objects competing for one detection
        gt(9, 7, 4, [0, 0, 40, 40]),
        gt(10, 7, 1, [0, 0, 100, 100]),
        gt(11, 7, 1, [10, 0, 100, 100]),
        # 8: a crowd and a normal box overlapping one detection: the normal one must win
        gt(12, 8, 2, [0, 0, 200, 200], area=30000.0, crowd=1),
        gt(13, 8, 2, [0, 0, 100, 100]),
    ]
    results = [
        det(1, 1, [100, 100, 200, 200], 0.9),
        det(1, 1, [102, 98, 200, 204], 0.8),
        det(1, 1, [405, 55, 50, 50], 0.7),
        det(2, 1, [10, 10, 30, 30], 0.95),
        det(2, 1, [100, 100, 150, 150], 0.6),
        det(2, 1, [250, 250, 40, 40], 0.5),
        det(2, 1, [401, 401, 20, 20], 0.5),          # same score as the one before: tie kept in file order
        det(3, 2, [10, 10, 50, 50], 0.85),           # an image without ground truth
        det(3, 2, [300, 300, 10, 10], 0.3),
        det(3, 3, [0, 0, 50, 50], 0.99),             # category absent from the ground truth: no effect
        det(5, 2, [55, 45, 100, 100], 0.4),
        det(5, 2, [0, 0, 0, 30], 0.2),               # zero width: IoU 0 with everything
        det(6, 1, [0, 0, 50, 100], 0.7),             # IoU exactly 0.5 with the 100x100 box
        det(7, 1, [5, 0, 100, 100], 0.9),            # IoU 0.905 with both objects: the later one wins the tie
        det(7, 1, [0, 0, 100, 100], 0.9),
        det(8, 2, [0, 0, 100, 100], 0.8),
        det(8, 2, [0, 0, 100, 100], 0.7),            # a second hit: only the crowd is left for it
        det(8, 2, [120, 120, 60, 60], 0.6),
    ]
    # image 4 has no detections at all
    return {"images": images, "annotations": anns, "categories": cats}, results


def random_case(seed=20261201):
    rng = np.random.default_rng(seed)
    cat_ids = [1, 2, 3, 5, 7, 11]              # 11 never occurs in the ground truth
    cats = [{"id": c, "name": f"class{c}", "supercategory": "thing"} for c in cat_ids]
    images, anns, results = [], [], []
    ann_id = 100
    for img_id in rng.permutation(np.arange(1, 61)) * 3 + 7:   # sparse ids, listed out of order
        img_id = int(img_id)
        w, h = int(rng.integers(320, 641)), int(rng.integers(240, 481))
        images.append(image(img_id, w, h))
        for _ in range(int(rng.integers(0, 9))):
            cat = int(rng.choice(cat_ids[:-1]))
            side = float(np.exp(rng.uniform(np.log(4), np.log(300))))
            bw, bh = round(side * rng.uniform(0.6, 1.4), 2), round(side * rng.uniform(0.6, 1.4), 2)
            x, y = round(float(rng.uniform(0, w - 1)), 2), round(float(rng.uniform(0, h - 1)), 2)
            crowd = int(rng.random() < 0.05)
            area = round(bw * bh * float(rng.uniform(0.4, 1.0)), 2)
            anns.append(gt(ann_id, img_id, cat, [x, y, bw, bh], area=area, crowd=crowd))
            ann_id += 1
            for copy in range(int(rng.random() < 0.8) + int(rng.random() < 0.2)):
                j = rng.normal(0, 0.08 * side, 4)
                box = [round(x + j[0], 2), round(y + j[1], 2), round(max(1.0, bw + j[2]), 2),
                       round(max(1.0, bh + j[3]), 2)]
                wrong = rng.random() < 0.1
                results.append(det(img_id, int(rng.choice(cat_ids)) if wrong else cat, box,
                                   round(float(rng.uniform(0.05, 1.0)), 2)))
        n_fp = 130 if img_id % 17 == 0 else int(rng.integers(0, 6))
        for _ in range(n_fp):
            side = float(np.exp(rng.uniform(np.log(4), np.log(250))))
            box = [round(float(rng.uniform(0, w)), 2), round(float(rng.uniform(0, h)), 2),
                   round(side, 2), round(side * float(rng.uniform(0.5, 2.0)), 2)]
            results.append(det(img_id, int(rng.choice(cat_ids)), box, round(float(rng.uniform(0.0, 0.9)), 2)))
    order = rng.permutation(len(results))
    results = [results[i] for i in order]
    return {"images": images, "annotations": anns, "categories": cats}, results


def evaluate(instances_path, results_path):
    with contextlib.redirect_stdout(io.StringIO()):
        coco_gt = COCO(instances_path)
        coco_dt = coco_gt.loadRes(results_path)
        e = COCOeval(coco_gt, coco_dt, "bbox")
        e.evaluate()
        e.accumulate()
        e.summarize()
    precision = e.eval["precision"]  # T x R x K x A x M
    per_cat = {}
    for k, cat in enumerate(e.params.catIds):
        p = precision[:, :, k, 0, -1]
        per_cat[str(cat)] = float(np.mean(p[p > -1])) if (p > -1).any() else -1.0
    return {"stats": dict(zip(NAMES, [float(s) for s in e.stats])), "per_category_ap": per_cat}


def write_coco(name, instances, results):
    d = os.path.join(OUT, "coco", name)
    write_json(os.path.join(d, "instances.json"), instances)
    write_json(os.path.join(d, "results.json"), results)
    expected = evaluate(os.path.join(d, "instances.json"), os.path.join(d, "results.json"))
    expected["generated_by"] = "spark-jobs/src/test/python/make_eval_fixtures.py with pycocotools " + pycocotools_version()
    write_json(os.path.join(d, "expected.json"), expected, indent=1)
    print(name, {k: round(v, 4) for k, v in expected["stats"].items()})


def pycocotools_version():
    try:
        from importlib.metadata import version
        return version("pycocotools")
    except Exception:  # a Debian package may carry no metadata
        return "(version unknown)"


# ------------------------------------------------------------------------------------------------------ mmseg

def reduce_zero_label(raw):
    """mmseg's LoadAnnotations(reduce_zero_label=True) on uint8 label maps."""
    label = raw.astype(np.uint8).copy()
    label[label == 0] = 255
    label = label - 1
    label[label == 254] = 255
    return label


def intersect_and_union(pred, label, num_classes, ignore_index=255):
    """mmseg's intersect_and_union (torch.histc over 0..num_classes-1 is a bincount for class indices)."""
    mask = label != ignore_index
    pred, label = pred[mask].astype(np.int64), label[mask].astype(np.int64)
    inter = pred[pred == label]
    a_inter = np.bincount(inter, minlength=num_classes)[:num_classes]
    a_pred = np.bincount(pred, minlength=num_classes)[:num_classes]
    a_label = np.bincount(label, minlength=num_classes)[:num_classes]
    return a_inter, a_pred + a_label - a_inter, a_pred, a_label


def seg_case(seed=7):
    rng = np.random.default_rng(seed)
    num_classes = 8                      # class 6 never predicted nor labelled; class 7 only predicted
    images, totals = [], [np.zeros(num_classes, np.int64) for _ in range(4)]
    for i in range(5):
        h, w = int(rng.integers(6, 13)), int(rng.integers(6, 13))
        raw = rng.integers(0, 7, size=(h, w))          # stored values 0..6: 0 = other, classes 0..5 after reduction
        raw[rng.random((h, w)) < 0.05] = 255           # explicit ignore
        label = reduce_zero_label(raw)
        pred = np.where(rng.random((h, w)) < 0.6, label, rng.integers(0, 6, size=(h, w)))
        pred = np.where(pred == 255, rng.integers(0, 6, size=(h, w)), pred)
        pred[rng.random((h, w)) < 0.03] = 7
        for t, v in zip(totals, intersect_and_union(pred, label, num_classes)):
            t += v
        images.append({"height": h, "width": w, "raw_label": raw.flatten().tolist(), "pred": pred.flatten().tolist()})
    inter, union, a_pred, a_label = totals
    with np.errstate(divide="ignore", invalid="ignore"):
        iou, acc = inter / union, inter / a_label
    expected = {"intersect": inter.tolist(), "union": union.tolist(), "pred_area": a_pred.tolist(),
                "label_area": a_label.tolist(),
                "iou": [None if np.isnan(v) else float(v) for v in iou],
                "acc": [None if np.isnan(v) else float(v) for v in acc],
                "mIoU": float(np.nanmean(iou)), "mAcc": float(np.nanmean(acc)),
                "aAcc": float(inter.sum() / a_label.sum())}
    write_json(os.path.join(OUT, "seg", "mmseg_random.json"),
               {"num_classes": num_classes, "ignore_index": 255, "images": images, "expected": expected})
    print("seg", {k: round(expected[k], 4) for k in ("mIoU", "mAcc", "aAcc")})


if __name__ == "__main__":
    write_coco("hand", *hand_case())
    write_coco("random", *random_case())
    seg_case()
