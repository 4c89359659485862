"""Reference for activation-aware SVD (issue 24): factors of a small W under a diagonal input scaling S, in numpy.

Writes model-zoo/src/test/resources/asvd/: w.npy [7, 5] (float32, PELA's [d_out, d_in]), x.npy [40, 5]
calibration inputs (float64, channels of very different size), s.npy [5] = sqrt(mean(x**2, 0)) (ASVD's scaling in
its RMS form), and for rank 3: p0.npy [3, 5] = sqrt(S_r) U_r^T S^-1, p1.npy [7, 3] = V_r sqrt(S_r), from the SVD of
S W^T = U diag(S) V^T; spectrum.npy = the squared singular values of W S. Run from the repository root:

    /usr/bin/python3 model-zoo/src/test/python/make_asvd_fixture.py
"""
import os

import numpy as np

OUT = "model-zoo/src/test/resources/asvd"
RANK = 3

rng = np.random.default_rng(24)
w = rng.normal(0, 0.1, size=(7, 5)).astype(np.float32)
x = rng.normal(0, 1, size=(40, 5)) * np.array([0.1, 3.0, 1.0, 0.5, 8.0])
s = np.sqrt(np.mean(x ** 2, axis=0))

a = s[:, None] * w.astype(np.float64).T  # S W^T [d_in, d_out]
u, sigma, vt = np.linalg.svd(a, full_matrices=False)
root = np.sqrt(sigma[:RANK])
p0 = (u[:, :RANK] * root / s[:, None]).T  # [r, d_in], S^-1 folded in
p1 = (root[:, None] * vt[:RANK]).T  # [d_out, r]

os.makedirs(OUT, exist_ok=True)
np.save(f"{OUT}/w.npy", w)
np.save(f"{OUT}/x.npy", x)
np.save(f"{OUT}/s.npy", s)
np.save(f"{OUT}/p0.npy", p0)
np.save(f"{OUT}/p1.npy", p1)
np.save(f"{OUT}/spectrum.npy", sigma ** 2)
# The point of the scaling: on these inputs the activation-aware rank-3 product has the smaller output error.
plain_u, plain_s, plain_vt = np.linalg.svd(w.astype(np.float64), full_matrices=False)
plain = plain_u[:, :RANK] * plain_s[:RANK] @ plain_vt[:RANK]
aware = p1 @ p0
err = lambda wr: np.linalg.norm(x @ (w - wr).T)
print("output error plain", err(plain), "activation-aware", err(aware))
