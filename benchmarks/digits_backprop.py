"""A user's matrix-form backprop for file 001's 64-100-10 digits net (CS231n style: W as (n_in, n_out),
samples in rows, mean over the batch), right and with a planted bug, for bench_check_code.py."""

import numpy as np


def _forward(W, b, X):
    H = 1 / (1 + np.exp(-(X @ W[0] + b[0])))
    S = H @ W[1] + b[1]
    P = np.exp(S - S.max(axis=1, keepdims=True))
    return H, P / P.sum(axis=1, keepdims=True)


def gradients(W, b, X, Y):
    H, P = _forward(W, b, X)
    dS = (P - Y) / len(X)
    dH = dS @ W[1].T * H * (1 - H)
    return [X.T @ dH, H.T @ dS], [dH.sum(axis=0), dS.sum(axis=0)]


def gradients_bug(W, b, X, Y):
    """σ used for σ′ in the hidden layer."""
    H, P = _forward(W, b, X)
    dS = (P - Y) / len(X)
    dH = dS @ W[1].T * H
    return [X.T @ dH, H.T @ dS], [dH.sum(axis=0), dS.sum(axis=0)]
