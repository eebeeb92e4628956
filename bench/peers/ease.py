"""EASE's closed form in NumPy/SciPy, the peer of aerec's `ease` in bench/ease.mjs.

Usage: python bench/peers/ease.py POSITIVES.i32 N_USERS N_ITEMS LAMBDA AEREC_B.f32 [--threads 2]

POSITIVES.i32 holds (user, item) pairs as little-endian int32, the positives of the training ratings (the
same X aerec reads). The script builds X as a SciPy sparse matrix, G = X^T X dense, adds LAMBDA to the
diagonal, inverts it with LAPACK (numpy.linalg.inv), and forms B = -P / diag(P) with a zero diagonal, as
Steck's code does: once in float64 (the paper's code) and once in float32 (aerec's precision). It times
each from X to B, compares aerec's B (AEREC_B.f32, row-major float32) with the float64 one, and prints one
JSON line.
"""

import json
import sys
import time

import numpy as np
import scipy.sparse as sp

path, n_users, n_items, lam, theirs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), sys.argv[5]
pairs = np.fromfile(path, dtype="<i4").reshape(-1, 2)
X = sp.csr_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(n_users, n_items))


def ease(dtype):
    started = time.perf_counter()
    x = X.astype(dtype)
    G = (x.T @ x).toarray()
    G[np.diag_indices(n_items)] += lam
    P = np.linalg.inv(G)
    B = P / (-np.diag(P))
    B[np.diag_indices(n_items)] = 0
    return B, time.perf_counter() - started


B64, seconds64 = ease(np.float64)
_, seconds32 = ease(np.float32)
ours = np.fromfile(theirs, dtype="<f4").reshape(n_items, n_items)
print(json.dumps({
    "seconds64": seconds64,
    "seconds32": seconds32,
    "maxAbsDiff": float(np.max(np.abs(ours - B64))),
    "maxAbsB": float(np.max(np.abs(B64))),
    "numpy": np.__version__,
}))
