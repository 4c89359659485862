"""Cuts the first N images of real Fashion-MNIST (Debian package dataset-fashion-mnist, MIT licence) into small
IDX files the model-zoo tests train on. Run from the repository root:

    /usr/bin/python3 model-zoo/src/test/python/make_fashion_subset.py
"""
import gzip
import os

SRC = "/usr/share/datasets/fashion-mnist"
OUT = "model-zoo/src/test/resources/fashion-mnist"
N = 256


def cut(name, header_len, item_bytes):
    with gzip.open(os.path.join(SRC, name), "rb") as f:
        data = f.read()
    header = bytearray(data[:header_len])
    header[4:8] = N.to_bytes(4, "big")  # item count, big-endian as IDX stores it
    body = data[header_len:header_len + N * item_bytes]
    with gzip.GzipFile(os.path.join(OUT, name.replace("train", f"train{N}")), "wb", mtime=0) as f:
        f.write(bytes(header) + body)


os.makedirs(OUT, exist_ok=True)
cut("train-images-idx3-ubyte.gz", 16, 28 * 28)
cut("train-labels-idx1-ubyte.gz", 8, 1)
