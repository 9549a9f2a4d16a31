"""Whole documents: the network, its forward pass, its error, every derivation with numbers, one update.

`blocks(net)` builds the content once; `tex(net)` writes it as a standalone LaTeX document (pdflatex),
`markdown(net)` as Markdown with $$ blocks (MkDocs, Jupyter). `write(path, text, force)` writes
atomically and refuses to overwrite without `force`.
"""

from __future__ import annotations

import re
from pathlib import Path

from derive.core.graph import Role
from derive.core.primitives import ACTIVATIONS, LOSSES
from derive.render.latex.blocks import (Equation, Figure, Heading, Row, Table, Text, equation_md, equation_tex,
                                       table_md, table_tex, wrapped)
from derive.render.latex.batch import batch_blocks
from derive.render.latex.compact import compact_derivations, delta_blocks
from derive.render.latex.figure import figure_blocks
from derive.render.latex.identities import identity_blocks, identity_names
from derive.render.latex.names import latex_name, style_of
from derive.render.latex.printer import latex, number, with_numbers
from derive.render.latex.sheets import sheet_blocks
from derive.render.output import OutputExists, write_atomic
from derive.render.latex.steps import ALL_STEPS, STEP_TITLES, Numbers, _bracket, changed_value, step_equations

__all__ = ["blocks", "tex", "markdown", "render_tex", "render_markdown", "write", "PREAMBLE", "MAX_PATHS"]

MAX_PATHS = 32        # beyond this a derivation prints its δ form, not every path
TERMS_PER_LINE = 4    # a neuron's weighted sum breaks after this many terms


PREAMBLE = r"""\documentclass[11pt]{article}
\usepackage[a4paper, margin=2cm]{geometry}
\usepackage[T1]{fontenc}
\usepackage{amsmath, amssymb}
\usepackage{tikz}
\usetikzlibrary{positioning}
\usepackage{longtable}
\usepackage{graphicx}
\setcounter{MaxMatrixCols}{20}
\allowdisplaybreaks
\setlength{\parindent}{0pt}
\setlength{\parskip}{4pt}
"""


def _loss_name(loss: str) -> str:
    """The loss in words, as its registry entry gives them."""
    return LOSSES[loss].words


def _forward(net, nums: Numbers) -> list:
    """Every neuron's definition, with numbers: net_h1 = w1·i1 + w2·i2 + b1·1 = … = 0.3775, then out_h1."""
    g, preset = net.graph, net.graph.notation.name
    weight_first = style_of(preset).weight_first
    out = [Heading("Forward pass", 1)]
    for layer in g.layers:
        rows = []
        for node in layer.nets:
            symbolic, numeric = [], []
            for parent, d in node.local.items():
                p = g.nodes[parent]
                if p.role not in (Role.WEIGHT, Role.BIAS):
                    continue
                src = latex(d, preset) if p.role is Role.WEIGHT else "1"
                src_n = with_numbers(d, nums.values, nums.digits, preset) if p.role is Role.WEIGHT else "1"
                here, here_n = latex_name(p.name, preset), _bracket(nums.show(nums.values[p.name]))
                pair, pair_n = ([here, src], [here_n, src_n]) if weight_first else ([src, here], [src_n, here_n])
                symbolic.append(r" \cdot ".join(pair))
                numeric.append(r" \times ".join(pair_n))
            lhs = latex_name(node.name, preset)
            rows += wrapped(lhs, symbolic, TERMS_PER_LINE)
            rows += wrapped("", numeric, TERMS_PER_LINE, tail=f" = {nums.show(nums.values[node.name])}")
        if not layer.fused:
            for node in layer.outs:
                rows.append(Row(latex_name(node.name, preset),
                                f"= {latex(node.definition, preset)} = "
                                f"{with_numbers(node.definition, nums.values, nums.digits, preset)}"
                                f" = {nums.show(nums.values[node.name])}"))
        out.append(Equation(rows))
    return out


def _error(net, nums: Numbers) -> list:
    g, preset = net.graph, net.graph.notation.name
    rows = []
    for node in [*g.errors, g.total]:
        value = f" = {nums.show(nums.values[node.name])}"
        if node is g.total and len(node.definition.args) > TERMS_PER_LINE and node.definition.is_Add:
            parts = list(node.definition.args)     # many outputs: E_total = E_o1 + … broken over lines
            rows += wrapped(latex_name(node.name, preset), [latex(a, preset) for a in parts], TERMS_PER_LINE)
            rows += wrapped("", [with_numbers(a, nums.values, nums.digits, preset) for a in parts],
                            TERMS_PER_LINE, tail=value)
            continue
        rows.append(Row(latex_name(node.name, preset), f"= {latex(node.definition, preset)}"))
        rows.append(Row("", f"= {with_numbers(node.definition, nums.values, nums.digits, preset)}{value}"))
    return [Heading("Error", 1), Text(f"Loss: {_loss_name(g.spec.loss)}."), Equation(rows)]


def _derivations(net, nums: Numbers, which) -> list:
    g, preset = net.graph, net.graph.notation.name
    out = [Heading("Every derivative by the chain rule", 1),
           Text("For each parameter: the sum over paths of products of partial derivatives, each factor "
                "in closed form, the numbers put in, and one step of gradient descent.")]
    for p in g.params:
        d = net.derivation(p.canonical)
        title = rf"$\partial {latex_name(g.total.name, preset)} / \partial {latex_name(p.name, preset)}$"
        out.append(Heading(title, 2))
        if d.path_count > MAX_PATHS:   # counted, not enumerated (2^24 paths in a 2-wide, 25-deep net)
            out.append(Text(f"{d.path_count} paths: too many to print; the shared back-propagated form instead."))
            rows = [Row(rf"\frac{{\partial {latex_name(g.total.name, preset)}}}{{\partial {latex_name(p.name, preset)}}}",
                        f"= {latex(d.delta_form, preset)}")]
            out.append(Equation(rows))
            continue
        for step, eq in step_equations(d, nums, which, factors="numbers" not in which):
            out += [Text(STEP_TITLES[step] + ":"), eq]
    return out


def _summary(net, nums: Numbers) -> list:
    g, preset = net.graph, net.graph.notation.name
    style = style_of(preset)
    now, new = net.param_values(), net.updated()
    rows = [Row(style.updated.format(name=latex_name(p.name, preset)),
                f"= {changed_value(now[p.canonical], new[p.canonical], nums)}")
            for p in g.params if p.canonical in net.trained]
    lr = number(net.spec.learning_rate)
    return [Heading("After one update", 1),
            Text(f"Every trained parameter after one step of gradient descent (learning rate ${lr}$)."),
            Equation(rows)]


def blocks(net, digits: int = 3, which=ALL_STEPS, full: bool = False) -> list:
    """The whole document's content, in order: compact (one parameter of each kind in full, the rest as
    tables) unless `full` (every parameter's whole derivation); a batch spec's document is batch_blocks'."""
    if net.spec.samples:
        return batch_blocks(net, digits, which, full)
    spec, nums = net.spec, Numbers(net, digits)
    layers = "-".join(map(str, spec.layers))
    acts = ", ".join(a.replace("_", " ") for a in spec.activations)       # text mode: no bare "_"
    desc = (f"A {layers} network; activations {acts}; loss "
            f"{_loss_name(spec.loss)}; biases {spec.bias.replace('_', ' ')}"
            f"{'' if spec.train_biases else ' (not trained)'}; learning rate ${number(spec.learning_rate)}$. "
            f"Numbers are rounded to {digits} significant digits; every value is computed exactly and only "
            f"rounded for printing.")
    out = [Heading("The network", 1), Text(desc)] + figure_blocks(net)
    out += _forward(net, nums) + _error(net, nums) + delta_blocks(net, nums)
    out += _derivations(net, nums, which) if full else compact_derivations(net, nums, which)
    out += _summary(net, nums)
    names = identity_names(spec.activations, spec.loss)
    if names:
        out += [Heading("The local derivatives, derived", 1)] + identity_blocks(names, net.graph.notation.name)
    if all(ACTIVATIONS[a].linear for a in spec.activations):
        out += sheet_blocks(net)
    return out


_TEX_SPECIAL = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "#": r"\#", "_": r"\_", "{": r"\{",
                "}": r"\}", "$": r"\$", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}",
                "<": r"\textless{}", ">": r"\textgreater{}", "|": r"\textbar{}"}


def _escape(text: str) -> str:
    """User text (a title) as LaTeX prints it literally: each special character replaced once, in one pass
    (replacing \\ first and then { would break \\textbackslash{} into \\textbackslash\\{\\}), control
    characters and line breaks as spaces."""
    text = re.sub(r"[\x00-\x1f\x7f]+", " ", text)
    return re.sub(r"[\\&%#_{}$~^<>|]", lambda m: _TEX_SPECIAL[m.group()], text)


_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]#|~$])")


def md_escape(text: str) -> str:
    """User text (a title) for a Markdown heading: HTML's &, < and > as entities (no tag, no script passes),
    Markdown's and MathJax's punctuation backslash-escaped, line breaks as spaces (a heading is one line)."""
    text = re.sub(r"[\x00-\x1f\x7f]+", " ", text)
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _MD_SPECIAL.sub(r"\\\1", text)


def tex(net, digits: int = 3, which=ALL_STEPS, full: bool = False) -> str:
    """A standalone LaTeX document pdflatex compiles (compact unless `full`)."""
    return render_tex(net.spec.title or "Backpropagation, derived", blocks(net, digits, which, full))


def render_tex(title: str, content: list) -> str:
    """Blocks as a standalone LaTeX document (shared with the matrix-form notes of derive.render.latex.matrix)."""
    parts = [PREAMBLE, rf"\title{{{_escape(title)}}}", r"\author{derived and checked by \texttt{derive}}",
             r"\date{}", r"\begin{document}", r"\maketitle"]
    for b in content:
        if isinstance(b, Heading):
            parts.append(("\\section*{" if b.level == 1 else "\\subsection*{") + b.text + "}")
        elif isinstance(b, Text):
            parts.append(b.text + "\n")
        elif isinstance(b, Equation):
            parts.append(equation_tex(b))
        elif isinstance(b, Table):
            parts.append(table_tex(b))
        elif isinstance(b, Figure):
            parts.append("\\begin{center}\n\\resizebox{\\ifdim\\width>\\linewidth\\linewidth\\else\\width\\fi}{!}{%\n"
                         + b.tikz + "}\n\n" + b.caption + "\n\\end{center}")
    parts.append(r"\end{document}")
    return "\n".join(parts) + "\n"


def markdown(net, digits: int = 3, which=ALL_STEPS, full: bool = False) -> str:
    """Markdown with $$ blocks (MkDocs with arithmatex/MathJax, Jupyter); compact unless `full`."""
    return render_markdown(net.spec.title or "Backpropagation, derived", blocks(net, digits, which, full))


def render_markdown(title: str, content: list) -> str:
    """Blocks as Markdown with $$ blocks."""
    parts = [f"# {md_escape(title)}", ""]
    for b in content:
        if isinstance(b, Heading):
            parts += ["#" * (b.level + 1) + " " + b.text, ""]
        elif isinstance(b, Text):
            parts += [b.text, ""]
        elif isinstance(b, Equation):
            parts += [equation_md(b), ""]
        elif isinstance(b, Table):
            parts += [table_md(b), ""]
        elif isinstance(b, Figure):
            parts += [b.caption, "", b.markdown, ""]
    return "\n".join(parts)


def write(path: str | Path, text: str, force: bool = False) -> Path:
    """Write `text` to `path` atomically; never overwrite without force, never through a link or onto a
    directory (derive.render.output)."""
    return write_atomic(path, text, force)
