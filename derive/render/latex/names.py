"""How each notation preset writes its names in LaTeX, as data: rules tried in order per preset.

A rule is (regular expression, template). Template fields are the expression's named groups;
a group called `inner` is itself a name and is rendered by the same rules (δ terms), a group
called `label` is a neuron label (h1, o2, h1_2) and a group called `word` is a word set upright
as a whole (net, out, target, total).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from dataclasses import replace
from functools import lru_cache

from derive.core.notation import ROLES, fields_of, get_notation
from derive.errors import SpecError

__all__ = ["NAME_RULES", "NOTATION_STYLE", "NotationStyle", "latex_name", "style_of"]

Rule = tuple[str, str]

# rules every preset shares, tried after its own
_COMMON: tuple[Rule, ...] = (
    (r"delta_(?P<inner>.+)", r"\delta_{{{inner}}}"),                         # delta_net_h1 -> \delta_{net_{h1}}
    (r"(?P<word>[A-Za-z]{2,})_(?P<label>\w+)", r"{word}_{{{label}}}"),        # net_h1 -> net_{h1}
    (r"(?P<letter>[A-Za-z])_(?P<word>[A-Za-z]{2,})", r"{letter}_{{{word}}}"),  # E_total -> E_{total}
    (r"(?P<letter>[A-Za-z])_(?P<label>\w+)", r"{letter}_{{{label}}}"),        # E_o1 -> E_{o1}, F_t -> F_{t}
    (r"(?P<letter>[A-Za-z])(?P<number>\d+)", r"{letter}_{{{number}}}"),      # w1 -> w_{1}, z3 -> z_{3}
    (r"(?P<letter>[A-Za-z])(?P<number>\d+)_(?P<j>\d+)", r"{letter}_{{{number},{j}}}"),  # deep h1_2 -> h_{1,2}
    (r"(?P<letter>[A-Za-z])", r"{letter}"),                                   # x, w, b, E
    (r"(?P<word>[A-Za-z]{2,})", r"{word}"),                                   # out -> \mathit{out}
)

# file 004 writes the target and the back-propagated error after the name: y1T, y1E, wE (y_T, y_E)
_SEVEN: tuple[Rule, ...] = (
    (r"(?P<letter>[a-z])(?P<number>\d*)(?P<suffix>[TE])", r"{letter}_{{{number}{suffix}}}"),  # y1T -> y_{1T}
    (r"(?P<letter>[a-z])(?P<number>\d+)_(?P<j>\d+)(?P<suffix>[TE])", r"{letter}_{{{number},{j}{suffix}}}"),
)

# file 001's matrix form: X, Z1, A1, W1, b1, Y, L, m; the column of ones is bold 1, δ terms dZ1 are δ_1
_MATRIX: tuple[Rule, ...] = (
    (r"ones", r"\mathbf{{1}}"),
    (r"dZ(?P<number>\d+)", r"\delta_{{{number}}}"),
)

NAME_RULES: dict[str, tuple[Rule, ...]] = {
    "net-out": _COMMON,
    "z-h-o": _COMMON,
    "seven": _SEVEN + _COMMON,
    "matrix": _MATRIX + _COMMON,
}


@dataclass(frozen=True)
class NotationStyle:
    """What else a preset writes its own way: the learning rate, the gradient, products, the update."""

    learning_rate: str            # file 000: η, file 003: α, file 004: lr (upright: one word, not l·r)
    weight_first: bool            # w1·i1 (files 000, 003) or x·w (file 004)
    gradient_by_name: bool        # the gradient written as its back-propagated name (w1E) not ∂E/∂w1
    updated: str = "{name}^{{+}}"  # the parameter after one step (w_5^+)


NOTATION_STYLE: dict[str, NotationStyle] = {
    "net-out": NotationStyle(learning_rate=r"\eta", weight_first=True, gradient_by_name=False),
    "z-h-o": NotationStyle(learning_rate=r"\alpha", weight_first=True, gradient_by_name=False),
    "seven": NotationStyle(learning_rate=r"\mathrm{lr}", weight_first=False, gradient_by_name=True,
                           updated="{name}'"),
}

_WORD = re.compile(r"[A-Za-z]{2,}")


@lru_cache(maxsize=256)
def style_of(preset: str) -> NotationStyle:
    """A preset's style; a notation written as a table takes its base's, with its own learning rate."""
    if preset in NOTATION_STYLE:
        return NOTATION_STYLE[preset]
    notation = _notation(preset)
    if notation is None:
        return NOTATION_STYLE["net-out"]
    style = NOTATION_STYLE.get(notation.style, NOTATION_STYLE["net-out"])
    rate = dict(notation.latex).get("learning_rate") or style.learning_rate
    return replace(style, learning_rate=rate, updated="{{{name}}}" + style.updated.removeprefix("{name}"))


def _notation(preset: str):
    try:
        return get_notation(preset)
    except SpecError:
        return None


_GROUP = {"l": r"(?P<l>\d+)", "j": r"(?P<j>\d+)", "k": r"(?P<k>\d+)", "n": r"(?P<n>\d+)",
          "label": r"(?P<label>\w+?)", "name": r"(?P<inner>.+)"}


def template_rules(notation) -> tuple[Rule, ...]:
    """Rules from a notation's LaTeX templates: its name template as a pattern, `{j}` in LaTeX becoming `{1}`."""
    rules = []
    for role, tex in notation.latex:
        if role not in ROLES or notation.template(role) is None:
            continue
        name = notation.template(role)
        fields = fields_of(name, role, ROLES[role][1])
        pattern = re.escape(name)
        for f in fields:
            group = _GROUP[f].replace("+", "*") if notation.drop_single_index else _GROUP[f]   # x, y, w
            pattern = pattern.replace(re.escape("{" + f + "}"), group, 1)
        rules.append((pattern, _format_template(tex)))
    return tuple(rules)


def _format_template(tex: str) -> str:
    """A LaTeX template as a str.format template: braces kept literally, placeholders as {value} groups."""
    parts = re.split(r"\{(l|j|k|n|label|name)\}", tex)
    out = []
    for i, part in enumerate(parts):
        if i % 2:
            out.append("{{{" + ("inner" if part == "name" else part) + "}}}")
        else:
            out.append(part.replace("{", "{{").replace("}", "}}"))
    return "".join(out)


@lru_cache(maxsize=256)
def rules_for(preset: str) -> tuple[Rule, ...]:
    """The rules a preset's names are written by: its own table's, or a spec notation's LaTeX templates."""
    if preset in NAME_RULES:
        return NAME_RULES[preset]
    notation = _notation(preset)
    return (template_rules(notation) if notation else ()) + _COMMON


def _label(text: str) -> str:
    """A neuron label inside a subscript: h1 stays h1, a deep label h2_1 reads h2,1."""
    return text.replace("_", ",")


def _word(text: str) -> str:
    return rf"\mathit{{{text}}}"


@lru_cache(maxsize=4096)
def latex_name(name: str, preset: str = "net-out") -> str:
    """The LaTeX of one quantity's name in a notation preset (net_h1 -> \\mathit{net}_{h1})."""
    for pattern, template in rules_for(preset):
        m = re.fullmatch(pattern, name)
        if m is None:
            continue
        fields = dict(m.groupdict())
        if "inner" in fields:
            fields["inner"] = latex_name(fields["inner"], preset)
        if "label" in fields:
            fields["label"] = _label(fields["label"])
        if "word" in fields:
            fields["word"] = _word(fields["word"])
        return template.format(**fields)
    return rf"\mathrm{{{name}}}".replace("_", r"\_")
