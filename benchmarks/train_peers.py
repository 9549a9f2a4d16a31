"""The peers derive's training loop is timed against, all training file 000's 2-2-2 sigmoid net
(i = (0.05, 0.10), w1..w8 = 0.15 … 0.55, shared biases 0.35/0.60 not trained, targets (0.01, 0.99),
half squared error, lr 0.5). Each returns the final outputs so the benchmark can check they agree.

(a) one network, one sample:  notes_script / notes_function / numpy_single / torch_single / jax_*_single
(b) K copies (random initial weights) in lock-step: numpy_matrix / numpy_unrolled / torch_copies / jax_copies
"""

from __future__ import annotations

import math

import numpy as np

X, T, B1, B2, LR = (0.05, 0.10), (0.01, 0.99), 0.35, 0.60, 0.5
W0 = (0.15, 0.20, 0.25, 0.30, 0.40, 0.45, 0.50, 0.55)

# The notes' 413.py loop (file 004) written for file 000's sigmoid net, as a script: module-level
# code, one variable per number, `if E < 0.0000001: break`. The print lines are left out (printing
# 10,000 transcripts would measure the terminal, not the loop).
NOTES_SCRIPT = """
from math import exp
x1, x2 = 0.05, 0.10
w1, w2 = 0.15, 0.20
w3, w4 = 0.25, 0.30
b1 = 0.35
w5, w6 = 0.40, 0.45
w7, w8 = 0.50, 0.55
b2 = 0.60
y1T, y2T = 0.01, 0.99
lr = 0.5
for epoch in range(iterations):
    h1 = x1*w1 + x2*w2 + 1*b1
    h2 = x1*w3 + x2*w4 + 1*b1
    h1 = 1/(1 + exp(-h1))
    h2 = 1/(1 + exp(-h2))
    y1 = h1*w5 + h2*w6 + 1*b2
    y2 = h1*w7 + h2*w8 + 1*b2
    y1 = 1/(1 + exp(-y1))
    y2 = 1/(1 + exp(-y2))
    E = ((y1-y1T)**2 + (y2-y2T)**2) / 2
    y1E = (y1 - y1T)*y1*(1 - y1)
    y2E = (y2 - y2T)*y2*(1 - y2)
    w5E = y1E*h1
    w6E = y1E*h2
    w7E = y2E*h1
    w8E = y2E*h2
    h1E = (y1E*w5 + y2E*w7)*h1*(1 - h1)
    h2E = (y1E*w6 + y2E*w8)*h2*(1 - h2)
    w1E = h1E*x1
    w2E = h1E*x2
    w3E = h2E*x1
    w4E = h2E*x2
    w5 = w5 - lr*w5E
    w6 = w6 - lr*w6E
    w7 = w7 - lr*w7E
    w8 = w8 - lr*w8E
    w1 = w1 - lr*w1E
    w2 = w2 - lr*w2E
    w3 = w3 - lr*w3E
    w4 = w4 - lr*w4E
    if E < 0.0000001:
        break
"""
_NOTES_CODE = compile(NOTES_SCRIPT, "413_000.py", "exec")


def _forward(w):
    sig = lambda z: 1 / (1 + math.exp(-z))
    h1, h2 = sig(X[0] * w[0] + X[1] * w[1] + B1), sig(X[0] * w[2] + X[1] * w[3] + B1)
    return [sig(h1 * w[4] + h2 * w[5] + B2), sig(h1 * w[6] + h2 * w[7] + B2)]


def notes_script(iterations: int):
    """The script exactly as the notes run it (module-level variables: dict lookups)."""
    ns = {"iterations": iterations}
    exec(_NOTES_CODE, ns)
    return _forward([ns[f"w{i}"] for i in range(1, 9)])


def _notes_in_a_function():
    """The script's very statements as the body of a function (local variables instead of globals)."""
    body = "\n".join("    " + line for line in NOTES_SCRIPT.strip().splitlines())
    ns: dict = {}
    exec(f"def run(iterations):\n{body}\n    return [w1, w2, w3, w4, w5, w6, w7, w8]\n", ns)
    return ns["run"]


_NOTES_FUNCTION = _notes_in_a_function()


def notes_function(iterations: int):
    """The same loop inside a function, statement for statement."""
    return _forward(_NOTES_FUNCTION(iterations))


def notes_fused(iterations: int):
    """The loop inside a function, hand-fused into fewer statements (w5 -= lr*y1E*h1, …)."""
    from math import exp
    x1, x2 = 0.05, 0.10
    w1, w2, w3, w4, w5, w6, w7, w8 = W0
    b1, b2, y1T, y2T, lr = 0.35, 0.60, 0.01, 0.99, 0.5
    for epoch in range(iterations):
        h1 = 1/(1 + exp(-(x1*w1 + x2*w2 + 1*b1)))
        h2 = 1/(1 + exp(-(x1*w3 + x2*w4 + 1*b1)))
        y1 = 1/(1 + exp(-(h1*w5 + h2*w6 + 1*b2)))
        y2 = 1/(1 + exp(-(h1*w7 + h2*w8 + 1*b2)))
        E = ((y1-y1T)**2 + (y2-y2T)**2) / 2
        y1E = (y1 - y1T)*y1*(1 - y1)
        y2E = (y2 - y2T)*y2*(1 - y2)
        h1E = (y1E*w5 + y2E*w7)*h1*(1 - h1)
        h2E = (y1E*w6 + y2E*w8)*h2*(1 - h2)
        w5 -= lr*y1E*h1
        w6 -= lr*y1E*h2
        w7 -= lr*y2E*h1
        w8 -= lr*y2E*h2
        w1 -= lr*h1E*x1
        w2 -= lr*h1E*x2
        w3 -= lr*h2E*x1
        w4 -= lr*h2E*x2
        if E < 0.0000001:
            break
    return _forward([w1, w2, w3, w4, w5, w6, w7, w8])


def _sig(z):
    return 1 / (1 + np.exp(-z))


def numpy_single(iterations: int):
    """The notes' NumPy class style (file 000's neuralNetwork): 2×2 matrices, np.dot, one sample."""
    wih, who = np.array(W0[:4]).reshape(2, 2), np.array(W0[4:]).reshape(2, 2)
    x, t = np.array(X), np.array(T)
    for _ in range(iterations):
        h = _sig(wih @ x + B1)
        o = _sig(who @ h + B2)
        do = (o - t) * o * (1 - o)
        dh = (who.T @ do) * h * (1 - h)
        who -= LR * np.outer(do, h)
        wih -= LR * np.outer(dh, x)
    return list(_sig(who @ _sig(wih @ x + B1) + B2))


def random_start(copies: int, seed: int = 0) -> np.ndarray:
    """(copies, 8) initial weights, uniform in ±1, the same for every peer."""
    return np.random.default_rng(seed).uniform(-1.0, 1.0, (copies, 8))


def numpy_matrix(W: np.ndarray, iterations: int):
    """Hand-written vectorised NumPy as one writes it for many copies: (K, 2, 2) weight matrices, matmul."""
    W1, W2 = W[:, :4].reshape(-1, 2, 2).copy(), W[:, 4:].reshape(-1, 2, 2).copy()
    x, t = np.array(X), np.array(T)
    for _ in range(iterations):
        h = _sig(W1 @ x + B1)                                   # (K, 2)
        o = _sig((W2 @ h[:, :, None])[:, :, 0] + B2)
        do = (o - t) * o * (1 - o)
        dh = (W2.transpose(0, 2, 1) @ do[:, :, None])[:, :, 0] * h * (1 - h)
        W2 -= LR * do[:, :, None] * h[:, None, :]
        W1 -= LR * dh[:, :, None] * x[None, None, :]
    h = _sig(W1 @ x + B1)
    return _sig((W2 @ h[:, :, None])[:, :, 0] + B2)


def numpy_unrolled(W: np.ndarray, iterations: int):
    """Hand-written vectorised NumPy, unrolled by an expert: one (K,) array per weight, in-place updates."""
    w1, w2, w3, w4, w5, w6, w7, w8 = (W[:, i].copy() for i in range(8))
    (x1, x2), (t1, t2) = X, T
    for _ in range(iterations):
        h1 = _sig(x1 * w1 + x2 * w2 + B1)
        h2 = _sig(x1 * w3 + x2 * w4 + B1)
        y1 = _sig(h1 * w5 + h2 * w6 + B2)
        y2 = _sig(h1 * w7 + h2 * w8 + B2)
        d1 = (y1 - t1) * y1 * (1 - y1)
        d2 = (y2 - t2) * y2 * (1 - y2)
        e1 = (d1 * w5 + d2 * w7) * h1 * (1 - h1)
        e2 = (d1 * w6 + d2 * w8) * h2 * (1 - h2)
        w5 -= LR * d1 * h1
        w6 -= LR * d1 * h2
        w7 -= LR * d2 * h1
        w8 -= LR * d2 * h2
        w1 -= LR * e1 * x1
        w2 -= LR * e1 * x2
        w3 -= LR * e2 * x1
        w4 -= LR * e2 * x2
    h1, h2 = _sig(x1 * w1 + x2 * w2 + B1), _sig(x1 * w3 + x2 * w4 + B1)
    return np.stack([_sig(h1 * w5 + h2 * w6 + B2), _sig(h1 * w7 + h2 * w8 + B2)], axis=1)


# --- PyTorch CPU autograd -----------------------------------------------------------------------

def _torch_loss(torch, W1, W2, x, t):
    h = torch.sigmoid(W1 @ x + B1)
    o = torch.sigmoid((W2 @ h.unsqueeze(-1)).squeeze(-1) + B2)
    return 0.5 * ((t - o) ** 2).sum(), o


def torch_copies(W: np.ndarray, iterations: int):
    """Autograd over (K, 2, 2) weights; the loss summed over copies gives each copy its own gradient."""
    import torch
    W1 = torch.tensor(W[:, :4].reshape(-1, 2, 2), dtype=torch.float64, requires_grad=True)
    W2 = torch.tensor(W[:, 4:].reshape(-1, 2, 2), dtype=torch.float64, requires_grad=True)
    x, t = torch.tensor(X, dtype=torch.float64), torch.tensor(T, dtype=torch.float64)
    for _ in range(iterations):
        loss, _ = _torch_loss(torch, W1, W2, x, t)
        loss.backward()
        with torch.no_grad():
            W1 -= LR * W1.grad
            W2 -= LR * W2.grad
        W1.grad = None
        W2.grad = None
    with torch.no_grad():
        return _torch_loss(torch, W1, W2, x, t)[1].numpy().reshape(-1, 2)


def torch_single(iterations: int):
    return list(torch_copies(np.array([W0]), iterations)[0])


# --- JAX ------------------------------------------------------------------------------------------

def _jax():
    import jax
    jax.config.update("jax_enable_x64", True)
    return jax


def _jax_loss(jnp, W, x, t):
    W1, W2 = W[..., :4].reshape(W.shape[:-1] + (2, 2)), W[..., 4:].reshape(W.shape[:-1] + (2, 2))
    h = 1 / (1 + jnp.exp(-(W1 @ x + B1)))
    o = 1 / (1 + jnp.exp(-((W2 @ h[..., None])[..., 0] + B2)))
    return 0.5 * jnp.sum((t - o) ** 2), o


def jax_functions():
    """(step, whole-loop) jitted: one update, and `iterations` updates inside lax.fori_loop."""
    jax = _jax()
    jnp = jax.numpy
    x, t = jnp.array(X), jnp.array(T)
    grad = jax.grad(lambda W: _jax_loss(jnp, W, x, t)[0])
    step = jax.jit(lambda W: W - LR * grad(W))
    loop = jax.jit(lambda W, n: jax.lax.fori_loop(0, n, lambda i, W: W - LR * grad(W), W))
    outputs = jax.jit(lambda W: _jax_loss(jnp, W, x, t)[1])
    return step, loop, outputs


def jax_step_single(iterations: int, fns):
    step, _, outputs = fns
    W = _jax().numpy.array(W0)
    for _ in range(iterations):
        W = step(W)
    return list(np.asarray(outputs(W)))


def jax_loop_single(iterations: int, fns):
    _, loop, outputs = fns
    W = loop(_jax().numpy.array(W0), iterations)
    return list(np.asarray(outputs(W)))


def jax_loop_copies(W: np.ndarray, iterations: int, fns):
    _, loop, outputs = fns
    Wj = loop(_jax().numpy.array(W), iterations)
    return np.asarray(outputs(Wj)).reshape(-1, 2)


def jax_vmap_functions():
    """One copy's whole loop (lax.fori_loop over iterations), vmapped over the copies and jitted: the
    form a JAX backend of derive would take (jit, vmap over copies, fori_loop over epochs)."""
    jax = _jax()
    jnp = jax.numpy
    x, t = jnp.array(X), jnp.array(T)
    grad = jax.grad(lambda w: _jax_loss(jnp, w, x, t)[0])
    one = lambda w, n: jax.lax.fori_loop(0, n, lambda i, w: w - LR * grad(w), w)
    loop = jax.jit(jax.vmap(one, in_axes=(0, None)))
    outputs = jax.jit(jax.vmap(lambda w: _jax_loss(jnp, w, x, t)[1]))
    return loop, outputs


def jax_vmap_copies(W: np.ndarray, iterations: int, fns):
    loop, outputs = fns
    return np.asarray(outputs(loop(_jax().numpy.array(W), iterations))).reshape(-1, 2)
