"""Notation presets: how the graph's roles are named, as data (one table, no branches in code).

Templates may use {j} (neuron index in its layer, from 1), {l} (hidden layer number, from 1),
{k} (pre-activation number counted across all layers after the input, as file 003's z1..z4),
{label} (the neuron's label: h1, o2, y, …) and {name} (a quantity's name, for δ terms).
Parameters keep their canonical names w1..wN, b1..bK as well as their notation names.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from derive.errors import SpecError

__all__ = ["Notation", "NOTATIONS", "ERROR_LETTERS", "get_notation"]


@dataclass(frozen=True)
class Notation:
    name: str
    input: str              # input neuron name
    hidden: str             # hidden neuron label, one hidden layer
    hidden_deep: str        # hidden neuron label, several hidden layers
    output: str             # output neuron label
    net: str                # pre-activation name
    out: str                # activation (output of a neuron) name
    target: str             # target name
    error: str | None       # per-output error name (None: the total is the only error node)
    total: str              # total error name
    delta: str              # back-propagated dE/d(name), shared by all paths below it
    weight: str = "w{n}"
    bias: str = "b{n}"
    fuse_identity: bool = False      # a linear neuron is one quantity (y = x·w + b), not net and out
    drop_single_index: bool = False  # a layer of one neuron drops its index (x, y, yT, w, b)
    output_first: bool = False       # residual written o − t (files 003, 004) rather than t − o (file 000)
    description: str = ""

    def with_error_letter(self, letter: str) -> "Notation":
        """The same notation with the error written as another letter (file 000 writes F_o1, F_t)."""
        error, total = ERROR_LETTERS[letter]
        if self.error is None:
            return replace(self, total=letter)
        return replace(self, error=error, total=total)


# file 000 calls the total error E_total, or F_t with per-output F_o1 (the "F" switch)
ERROR_LETTERS = {"E": ("E_{label}", "E_total"), "F": ("F_{label}", "F_t")}

NOTATIONS: dict[str, Notation] = {
    n.name: n
    for n in (
        Notation(
            name="net-out", input="i{j}", hidden="h{j}", hidden_deep="h{l}_{j}", output="o{j}",
            net="net_{label}", out="out_{label}", target="target_{label}", error="E_{label}",
            total="E_total", delta="delta_{name}",
            description="file 000: i1, net_h1, out_h1, net_o1, out_o1, target_o1, E_o1, E_total",
        ),
        Notation(
            name="z-h-o", input="x{j}", hidden="h{j}", hidden_deep="h{l}_{j}", output="o{j}",
            net="z{k}", out="{label}", target="t{j}", error="E_{label}", total="E_total",
            delta="delta_{name}", output_first=True,
            description="file 003: x1, z1..z4 across layers, h1, o1, t1, E_o1, E_total",
        ),
        Notation(
            name="seven", input="x{j}", hidden="h{j}", hidden_deep="h{l}_{j}", output="y{j}",
            net="{label}_net", out="{label}", target="{label}T", error=None, total="E",
            delta="{name}E", fuse_identity=True, drop_single_index=True, output_first=True,
            description="file 004: x, h, y, yT, E; back-propagated yE, hE, xE, wE, bE",
        ),
    )
}


def get_notation(name: str, error_letter: str = "E") -> Notation:
    """The preset called `name`, with its error letter; SpecError naming the choices otherwise."""
    if name not in NOTATIONS:
        raise SpecError("network.notation", f"one of {', '.join(NOTATIONS)}", got=name)
    if error_letter not in ERROR_LETTERS:
        raise SpecError("network.error_letter", f"one of {', '.join(ERROR_LETTERS)}", got=error_letter)
    notation = NOTATIONS[name]
    return notation if error_letter == "E" else notation.with_error_letter(error_letter)
