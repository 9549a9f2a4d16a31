"""Exercise sheets' numbers: one set of values per student, drawn reproducibly from a seed, and the answer key.

Values are drawn with two decimals in ranges where a hand calculation stays readable: every pre-activation
within ±PRE_LIMIT (no saturated sigmoid or tanh) and every gradient at least 10^(1−D) in size, so none
rounds to 0 at D decimals. The key holds, in [hand] keys, every forward value, every per-output and total
error, every gradient and every update, as exact (float64) values.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from typing import Any, Mapping

from derive.core.graph import Role
from derive.core.spec import bias_count, spec_from_dict, weight_count
from derive.errors import DeriveError, SpecError
from derive.numeric.network import Network

__all__ = ["Student", "draw_students", "answers", "key_json", "PRE_LIMIT", "TRIES", "DRAW_SECONDS"]

PRE_LIMIT = 2.5    # |pre-activation| at most this: σ′ stays above 0.07, tanh′ above 0.03
TRIES = 5000       # draws per student before giving up on a network whose gradients stay tiny
DRAW_SECONDS = 15.0  # per student: a net whose gradients stay tiny is given up on in bounded time


class NoReadableValues(DeriveError):
    """No draw gave values whose numbers stay readable (say which condition failed)."""


@dataclass
class Student:
    """One student's numbers, the network built at them, and the answer key in [hand] keys."""

    id: str
    values: dict[str, Any]
    net: Network
    answers: dict[str, float]


def spec_data(base: Mapping[str, Any], values: Mapping[str, Any], title: str = "") -> dict[str, Any]:
    """A spec dict: the base spec's network (and notation) with these values; no [hand], no [train]."""
    data = {"network": dict(base["network"]), "values": dict(values)}
    if "notation" in base:
        data["notation"] = base["notation"]
    if title:
        data["title"] = title
    return data


def _draw(rng: random.Random, layers, n_biases: int, lr: float) -> dict[str, Any]:
    two = lambda lo, hi: round(rng.uniform(lo, hi), 2)   # noqa: E731  two decimals: written by hand
    return {"inputs": [two(0.05, 1.0) for _ in range(layers[0])],
            "targets": [two(0.01, 0.99) for _ in range(layers[-1])],
            "weights": [two(-1.0, 1.0) or 0.1 for _ in range(weight_count(layers))],
            "biases": [two(-0.5, 0.5) for _ in range(n_biases)],
            "learning_rate": lr}


def readable(net: Network, digits: int) -> str | None:
    """None when every number is readable; otherwise what is not (a saturated neuron, a tiny gradient)."""
    values = net.values()
    for node in net.graph.nodes.values():
        if node.role is Role.NET and abs(values[node.name]) > PRE_LIMIT:
            return f"{node.name} = {values[node.name]:.3g} (saturated)"
    small = 10.0 ** (1 - digits)
    for name, g in net.gradients().items():
        if abs(g) < small:
            return f"∂E/∂{name} = {g:.2g} (rounds to 0 at {digits} decimals)"
    return None


def answers(net: Network) -> dict[str, float]:
    """Every forward value, error, gradient and update of `net`, by [hand] key (notation names)."""
    g, values = net.graph, net.values()
    out = {n.name: values[n.name] for n in g.nodes.values() if not n.is_leaf}
    grads, updated = net.gradients(), net.updated()
    for p in g.trained_params:
        out[f"d{g.total.name}/d{p.name}"] = grads[p.canonical]
    for p in g.trained_params:
        out[f"{p.name}+"] = updated[p.canonical]
    return out


def draw_students(base: Mapping[str, Any], n: int, seed: int, digits: int, source: str | None = None) -> list[Student]:
    """`n` students' values, reproducible from `seed`, each readable at `digits` decimals and all different."""
    check_base(base, source)
    first = spec_from_dict(spec_data(base, base["values"]), source=source)
    n_biases = bias_count(first.layers, first.bias)
    rng = random.Random(seed)
    students, seen = [], set()
    why = "none drawn"
    for i in range(n):
        deadline = time.monotonic() + DRAW_SECONDS
        for tries in range(1, TRIES + 1):
            if time.monotonic() > deadline:
                raise NoReadableValues(f"{source or 'spec'}: no readable values for student {i + 1} within "
                                       f"{DRAW_SECONDS:g} s ({tries - 1} draws; last: {why}); try fewer --digits "
                                       f"or a shallower network")
            values = _draw(rng, first.layers, n_biases, first.learning_rate)
            frozen = repr(values)
            if frozen in seen:
                continue
            net = Network(spec_from_dict(spec_data(base, values, f"student {i + 1:02d}")))
            why = readable(net, digits)
            if why is None:
                break
        else:
            raise NoReadableValues(f"{source or 'spec'}: no readable values for student {i + 1} in {TRIES} draws "
                                   f"(last: {why}); try fewer --digits")
        seen.add(frozen)
        students.append(Student(f"{i + 1:02d}", values, net, answers(net)))
    return students


def key_json(base: Mapping[str, Any], students: list[Student], seed: int, digits: int) -> dict[str, Any]:
    """DIR/key.json: the network (to rebuild every student's), the seed, and per student values and answers."""
    out: dict[str, Any] = {"network": dict(base["network"]), "seed": seed, "digits": digits}
    if "notation" in base:
        out["notation"] = base["notation"]
    out["students"] = [{"id": s.id, "values": s.values, "answers": s.answers} for s in students]
    return out


def check_base(base: Mapping[str, Any], source: str | None) -> None:
    """The spec must be a network spec (its [values] give the learning rate); SpecError otherwise."""
    if "network" not in base or "values" not in base:
        raise SpecError("values", "a network spec with [network] and [values]", source=source)
