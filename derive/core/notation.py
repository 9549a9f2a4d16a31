"""Notations as data: how the graph's roles are named, one table per notation (no branches in code).

A notation is a table of templates, one per role (the keys of ROLES), with the placeholders {l} (layer,
the input layer counted as `first_layer`), {j} (neuron in its layer, from 1), {k} (source neuron of a
weight, from 1), {n} (running number: weights w1..wN, biases b1..bK, pre-activations across layers as
file 003's z1..z4), {label} (the neuron's label: h1, o2, y) and {name} (the quantity a δ term is of).
The presets are such tables (PRESETS); a spec's `[notation]` table is read by `notation_from_table` and
validated the same way: only known placeholders, names made of letters, digits and _, never evaluated.
Parameters keep their canonical names w1..wN, b1..bK as well as their notation names.
"""

from __future__ import annotations

import hashlib
import json
import re
import string
from dataclasses import dataclass, replace
from typing import Any, Mapping

from derive.errors import SpecError

__all__ = ["Notation", "NOTATIONS", "PRESETS", "ROLES", "LATEX_ROLES", "ERROR_LETTERS", "get_notation",
           "notation_from_table", "fill", "fields_of"]

# table key -> (Notation field, placeholders it may use)
ROLES: dict[str, tuple[str, frozenset[str]]] = {
    "input": ("input", frozenset("ljn")),
    "pre_activation": ("net", frozenset({"l", "j", "n", "label"})),
    "activation": ("out", frozenset({"l", "j", "label"})),
    "output": ("output_out", frozenset({"l", "j", "label"})),
    "target": ("target", frozenset({"l", "j", "label"})),
    "output_error": ("error", frozenset({"l", "j", "label"})),
    "error": ("total", frozenset()),
    "delta": ("delta", frozenset({"name", "l", "j"})),
    "weight": ("weight", frozenset("ljkn")),
    "bias": ("bias", frozenset("ljn")),
    "hidden_label": ("hidden", frozenset("lj")),
    "deep_label": ("hidden_deep", frozenset("lj")),
    "output_label": ("output", frozenset("lj")),
}
LATEX_ROLES = tuple(ROLES) + ("learning_rate",)
FLAGS = ("fuse_identity", "drop_single_index", "output_first")
TABLE_KEYS = ("name", "description", "first_layer", "latex") + tuple(ROLES) + FLAGS


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
    output_out: str | None = None    # the output layer's activation (None: as `out`)
    first_layer: int = 0             # the number {l} gives the input layer (Nielsen: 1)
    fuse_identity: bool = False      # a linear neuron is one quantity (y = x·w + b), not net and out
    drop_single_index: bool = False  # a layer of one neuron drops its index (x, y, yT, w, b)
    output_first: bool = False       # residual written o − t (files 003, 004) rather than t − o (file 000)
    latex: tuple[tuple[str, str], ...] = ()   # (role, LaTeX template), for notations with their own LaTeX
    style: str = "net-out"           # the preset whose LaTeX style (η, products, updates) it shares
    key: str = "network.notation"    # the spec key an error about this notation names
    description: str = ""

    def with_error_letter(self, letter: str) -> "Notation":
        """The same notation with the error written as another letter (file 000 writes F_o1, F_t)."""
        error, total = ERROR_LETTERS[letter]
        if self.error is None:
            return replace(self, total=letter)
        return replace(self, error=error, total=total)

    def template(self, role: str) -> str | None:
        """The name template of a table role (`activation`, `weight`, …)."""
        return getattr(self, ROLES[role][0])


# file 000 calls the total error E_total, or F_t with per-output F_o1 (the "F" switch)
ERROR_LETTERS = {"E": ("E_{label}", "E_total"), "F": ("F_{label}", "F_t")}

_LABELS = {"hidden_label": "h{j}", "deep_label": "h{l}_{j}"}

PRESETS: dict[str, dict[str, Any]] = {
    "net-out": dict(_LABELS, input="i{j}", output_label="o{j}", pre_activation="net_{label}",
                    activation="out_{label}", target="target_{label}", output_error="E_{label}",
                    error="E_total", delta="delta_{name}", weight="w{n}", bias="b{n}",
                    description="file 000: i1, net_h1, out_h1, net_o1, out_o1, target_o1, E_o1, E_total"),
    "z-h-o": dict(_LABELS, input="x{j}", output_label="o{j}", pre_activation="z{n}", activation="{label}",
                  target="t{j}", output_error="E_{label}", error="E_total", delta="delta_{name}",
                  weight="w{n}", bias="b{n}", output_first=True,
                  description="file 003: x1, z1..z4 across layers, h1, o1, t1, E_o1, E_total"),
    "seven": dict(_LABELS, input="x{j}", output_label="y{j}", pre_activation="{label}_net", activation="{label}",
                  target="{label}T", output_error="", error="E", delta="{name}E", weight="w{n}", bias="b{n}",
                  fuse_identity=True, drop_single_index=True, output_first=True,
                  description="file 004: x, h, y, yT, E; back-propagated yE, hE, xE, wE, bE"),
    "nielsen": dict(_LABELS, input="a{l}_{j}", output_label="o{j}", pre_activation="z{l}_{j}",
                    activation="a{l}_{j}", target="y{j}", output_error="", error="C", delta="delta{l}_{j}",
                    weight="w{l}_{j}_{k}", bias="b{l}_{j}", first_layer=1,
                    latex={"input": "a^{l}_{j}", "pre_activation": "z^{l}_{j}", "activation": "a^{l}_{j}",
                           "target": "y_{j}", "error": "C", "delta": r"\delta^{l}_{j}",
                           "weight": "w^{l}_{{j}{k}}", "bias": "b^{l}_{j}", "learning_rate": r"\eta"},
                    description="Nielsen: layer 1 the input, a^l_j, z^l_j, w^l_jk, b^l_j, δ^l_j, cost C"),
}

_FORMATTER = string.Formatter()
_LITERAL = re.compile(r"[A-Za-z0-9_]*")


def fields_of(template: str, key: str, allowed: frozenset[str]) -> list[str]:
    """The placeholders of a name template, in order; SpecError for any other field, format or text."""
    try:
        parts = list(_FORMATTER.parse(template))
    except ValueError as exc:
        raise SpecError(key, "a template with balanced braces around placeholders", got=template) from exc
    fields = []
    for literal, field, spec, conversion in parts:
        if not _LITERAL.fullmatch(literal):
            raise SpecError(key, "a name of letters, digits and _ with placeholders such as {l} {j}", got=template)
        if field is None:
            continue
        if field not in allowed or spec or conversion:
            known = " ".join(f"{{{f}}}" for f in sorted(allowed)) or "none"
            raise SpecError(key, f"only the placeholders {known}", got=template)
        if field in fields:
            raise SpecError(key, "each placeholder at most once", got=template)
        fields.append(field)
    return fields


def fill(template: str, **values: object) -> str:
    """A validated template with its placeholders replaced (no str.format on user text: no attribute access)."""
    return "".join(literal + ("" if field is None else str(values[field]))
                   for literal, field, _, _ in _FORMATTER.parse(template))


def notation_from_table(table: Mapping[str, Any], base: str = "net-out", key: str = "notation") -> Notation:
    """A notation from a table of templates; roles left out keep `base`'s. SpecError naming the key otherwise."""
    if not isinstance(table, Mapping):
        raise SpecError(key, "a table", got=table)
    for k in table:
        if k not in TABLE_KEYS:
            raise SpecError(f"{key}.{k}", f"one of the known keys {', '.join(TABLE_KEYS)}")
    merged = {**PRESETS[base], **{k: v for k, v in table.items() if k != "latex"}}
    merged.pop("latex", None)
    templates = {}
    for role, (attr, allowed) in ROLES.items():
        value = merged.get(role, "")
        if not isinstance(value, str):
            raise SpecError(f"{key}.{role}", "a string template", got=value)
        fields_of(value, f"{key}.{role}", allowed)
        if value == "" and role not in ("output_error", "output"):
            raise SpecError(f"{key}.{role}", "a non-empty template", got=value)
        templates[attr] = value or None
    flags = {f: _flag(merged.get(f, False), f"{key}.{f}") for f in FLAGS}
    first = merged.get("first_layer", 0)
    if isinstance(first, bool) or not isinstance(first, int) or first < 0:
        raise SpecError(f"{key}.first_layer", "a whole number >= 0", got=first)
    latex = {r: t for r, t in PRESETS[base].get("latex", {}).items() if r not in table}  # kept roles only
    latex.update(_latex(table.get("latex", {}), key))
    for role, tex in latex.items():
        _latex_fields_named(role, tex, merged.get(role, ""), key)
    for text in ("name", "description"):
        if not isinstance(merged.get(text, ""), str):
            raise SpecError(f"{key}.{text}", "a string", got=merged[text])
    return Notation(name=_custom_name(table, base), **templates, first_layer=first,
                    latex=tuple(latex.items()), style=NOTATIONS[base].style if base in NOTATIONS else base, **flags,
                    key=key, description=merged.get("description", ""))


def _flag(value, key):
    if not isinstance(value, bool):
        raise SpecError(key, "true or false", got=value)
    return value


_LATEX_FIELD = re.compile(r"\{(l|j|k|n|label)\}")


def _latex_fields_named(role: str, tex: str, name: str, key: str) -> None:
    """A role's LaTeX template uses only the placeholders its name template has (the numbers come from the
    name): `latex.target = "t_{j}"` beside a name template without {j} has no j to write."""
    if role not in ROLES or not name:
        return
    have = set(fields_of(name, f"{key}.{role}", ROLES[role][1]))
    missing = [f for f in _LATEX_FIELD.findall(tex) if f not in have]
    if missing:
        known = " ".join(f"{{{f}}}" for f in sorted(have)) or "none"
        raise SpecError(f"{key}.latex.{role}", f"only the placeholders of the name template {key}.{role} "
                        f"({name!r}: {known})", got=tex)


def _latex(table, key) -> dict[str, str]:
    if not isinstance(table, Mapping):
        raise SpecError(f"{key}.latex", "a table of LaTeX templates by role", got=table)
    out = {}
    for role, value in table.items():
        if role not in LATEX_ROLES:
            raise SpecError(f"{key}.latex.{role}", f"one of the roles {', '.join(LATEX_ROLES)}")
        if not isinstance(value, str) or not value:
            raise SpecError(f"{key}.latex.{role}", "a LaTeX template (a non-empty string)", got=value)
        out[role] = value
    return out


def _custom_name(table, base) -> str:
    """A name for a spec's notation that differs whenever its table does (LaTeX rules are cached by name)."""
    digest = hashlib.sha1(json.dumps([base, table], sort_keys=True, default=str).encode()).hexdigest()[:10]
    label = table.get("name", "custom")
    return f"{label}#{digest}" if isinstance(label, str) else f"custom#{digest}"


NOTATIONS: dict[str, Notation] = {}
for _name, _table in PRESETS.items():
    NOTATIONS[_name] = replace(notation_from_table(_table, "net-out", "network.notation"), name=_name,
                               style="net-out" if _name == "nielsen" else _name)
_CUSTOM: dict[str, Notation] = {}


def register(notation: Notation) -> str:
    """Keep a spec's notation under its name, so that a Spec (which holds names) can refer to it."""
    _CUSTOM[notation.name] = notation
    return notation.name


def get_notation(name: str, error_letter: str = "E") -> Notation:
    """The preset (or registered spec notation) called `name`, with its error letter; SpecError otherwise."""
    notation = NOTATIONS.get(name) or _CUSTOM.get(name)
    if notation is None:
        raise SpecError("network.notation", f"one of {', '.join(NOTATIONS)}", got=name)
    if error_letter not in ERROR_LETTERS:
        raise SpecError("network.error_letter", f"one of {', '.join(ERROR_LETTERS)}", got=error_letter)
    return notation if error_letter == "E" else notation.with_error_letter(error_letter)
