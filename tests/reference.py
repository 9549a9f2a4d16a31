"""An independent float implementation of a layered net's forward pass and backprop, for tests.

Written from the notes' formulas with plain Python lists and `math`, sharing no code with derive,
so that derive's numbers can be checked against it. Weight numbering as DESIGN.md: layer by
layer, by destination neuron, then by source neuron; biases per neuron, one per layer, or none.
"""

from __future__ import annotations

import math


def act(name, zs):
    if name == "identity":
        return list(zs)
    if name == "sigmoid":
        return [1 / (1 + math.exp(-z)) for z in zs]
    if name == "tanh":
        return [math.tanh(z) for z in zs]
    if name == "relu":
        return [max(z, 0.0) for z in zs]
    if name == "softmax":
        m = max(zs)
        es = [math.exp(z - m) for z in zs]
        return [e / sum(es) for e in es]
    raise ValueError(name)


def act_jacobian(name, zs, outs):
    """J[j][i] = ∂out_j/∂z_i."""
    n = len(zs)
    if name == "softmax":
        return [[outs[j] * ((1.0 if i == j else 0.0) - outs[i]) for i in range(n)] for j in range(n)]
    d = {"identity": lambda z, a: 1.0, "sigmoid": lambda z, a: a * (1 - a), "tanh": lambda z, a: 1 - a * a,
         "relu": lambda z, a: 1.0 if z > 0 else 0.0}[name]
    return [[d(zs[j], outs[j]) if i == j else 0.0 for i in range(n)] for j in range(n)]


def loss(name, ts, os):
    n = len(os)
    if name == "half_sse":
        return sum(0.5 * (t - o) ** 2 for t, o in zip(ts, os))
    if name == "mse":
        return sum((t - o) ** 2 for t, o in zip(ts, os)) / n
    if name == "bce":
        return -sum(t * math.log(o) + (1 - t) * math.log(1 - o) for t, o in zip(ts, os))
    if name == "cross_entropy":
        return -sum(t * math.log(o) for t, o in zip(ts, os))
    raise ValueError(name)


def loss_grad(name, ts, os):
    n = len(os)
    if name == "half_sse":
        return [o - t for t, o in zip(ts, os)]
    if name == "mse":
        return [2 * (o - t) / n for t, o in zip(ts, os)]
    if name == "bce":
        return [-(t / o) + (1 - t) / (1 - o) for t, o in zip(ts, os)]
    if name == "cross_entropy":
        return [-t / o for t, o in zip(ts, os)]
    raise ValueError(name)


def unpack(layers, weights, biases, scheme):
    """Weight matrices W[l][j][k] (dest j, source k) and bias index per neuron."""
    W, pos = [], 0
    B, bpos = [], 0
    for a, b in zip(layers, layers[1:]):
        W.append([[weights[pos + j * a + k] for k in range(a)] for j in range(b)])
        pos += a * b
        if scheme == "per_neuron":
            B.append(list(range(bpos, bpos + b)))
            bpos += b
        elif scheme == "shared":
            B.append([bpos] * b)
            bpos += 1
        else:
            B.append([None] * b)
    return W, B


def forward(layers, acts, weights, biases, scheme, x):
    W, B = unpack(layers, weights, biases, scheme)
    outs, nets = [list(x)], []
    for l, name in enumerate(acts):
        z = [sum(W[l][j][k] * outs[-1][k] for k in range(layers[l])) + (biases[B[l][j]] if B[l][j] is not None else 0.0)
             for j in range(layers[l + 1])]
        nets.append(z)
        outs.append(act(name, z))
    return nets, outs


def gradients(layers, acts, lossname, weights, biases, scheme, x, t):
    """(loss, outputs, dE/dweights list, dE/dbiases list)."""
    W, B = unpack(layers, weights, biases, scheme)
    nets, outs = forward(layers, acts, weights, biases, scheme, x)
    E = loss(lossname, t, outs[-1])
    d_out = loss_grad(lossname, t, outs[-1])
    gw_layers, gb = [None] * len(acts), [0.0] * len(biases)
    for l in reversed(range(len(acts))):
        J = act_jacobian(acts[l], nets[l], outs[l + 1])
        n = layers[l + 1]
        d_net = [sum(d_out[j] * J[j][i] for j in range(n)) for i in range(n)]
        gw_layers[l] = [d_net[j] * outs[l][k] for j in range(n) for k in range(layers[l])]
        for j in range(n):
            if B[l][j] is not None:
                gb[B[l][j]] += d_net[j]
        d_out = [sum(d_net[j] * W[l][j][k] for j in range(n)) for k in range(layers[l])]
    gw = [g for layer in gw_layers for g in layer]
    return E, outs[-1], gw, gb
