"""Exercise sheets in LaTeX: per student a problem sheet (the network with that student's numbers and the
questions, each with the key its answer is marked under) and its worked solution (the whole derivation)."""

from __future__ import annotations

from derive.core.graph import Role
from derive.render.latex.blocks import Equation, Figure, Heading, Row, Text
from derive.render.latex.document import blocks, render_tex
from derive.render.latex.figure import tikz, weights_table
from derive.render.latex.names import latex_name, style_of
from derive.render.latex.printer import number, partial

__all__ = ["chosen_params", "questions", "problem_tex", "solution_tex"]

BLANK = r"\underline{\hspace{3.5cm}}"


def chosen_params(graph) -> list:
    """The gradients a sheet asks for: the first and last trained weight into each layer."""
    out = []
    for layer in graph.layers:
        ws = [p for p in graph.trained_params if p.role is Role.WEIGHT and p.layer == layer.number]
        out += [p for p in (ws[:1] + ws[-1:]) if p not in out]
    return out


def questions(net) -> list[tuple[str, list[tuple[str, str]]]]:
    """(section, [(LaTeX of the asked quantity, its [hand] key)]) in the order a hand calculation goes."""
    g, preset = net.graph, net.graph.notation.name
    forward = [(latex_name(n.name, preset), n.name)
               for layer in g.layers for n in (layer.nets + ([] if layer.fused else layer.outs))]
    errors = [(latex_name(e.name, preset), e.name) for e in g.errors + [g.total]]
    params = chosen_params(g)
    total = g.total.name
    grads = [(partial(total, p.name, preset), f"d{total}/d{p.name}") for p in params]
    style = style_of(preset)
    updates = [(style.updated.format(name=latex_name(p.name, preset)), f"{p.name}+") for p in params]
    return [("The forward pass", forward), ("The error", errors), ("Gradients", grads),
            (f"One step of gradient descent (learning rate ${number(net.spec.learning_rate)}$)", updates)]


def _given(net) -> Text:
    g, preset, values = net.graph, net.graph.notation.name, net.values()
    leaves = list(g.inputs) + list(g.targets)
    pairs = [f"${latex_name(n.name, preset)} = {number(values[n.name], 6)}$" for n in leaves]
    lr = f"${style_of(preset).learning_rate} = {number(net.spec.learning_rate, 6)}$"
    return Text("Given: " + ", ".join(pairs + [lr]) + "; the weights and biases are on the edges.")


def problem_tex(net, student: str, digits: int, title: str = "") -> str:
    """The problem sheet: the network and its numbers, then every question with a blank and its key."""
    spec = net.spec
    desc = (f"A {'-'.join(map(str, spec.layers))} network, activations {', '.join(spec.activations)}"
            f"; give every answer to {digits} decimals, computed from your own earlier answers where a step "
            r"uses them. Hand answers in as rows \texttt{student,key,answer} with the key shown in brackets.")
    content = [Text(desc.replace("_", r"\_")), _given(net),
               Figure(tikz(net), "Your network, with every weight on its edge.", weights_table(net))]
    number_ = 0
    for section, items in questions(net):
        content.append(Heading(section))
        lines = []
        for tex_, key in items:
            number_ += 1
            lines.append(rf"\item $\displaystyle {tex_} = $ {BLANK} \hfill (\texttt{{{_escape(key)}}})")
        content.append(Text(rf"\begin{{enumerate}}\setcounter{{enumi}}{{{number_ - len(items)}}}" + "\n"
                            + "\n".join(lines) + "\n\\end{enumerate}"))
    return render_tex(f"{title or 'Backpropagation by hand'}: student {student}", content)


def solution_tex(net, student: str, digits: int, answers: dict[str, float], title: str = "") -> str:
    """The worked solution: the whole derivation with this student's numbers, then the key at `digits` decimals."""
    content = blocks(net, digits=digits)
    rows = [Row(tex_, f"= {answers[key]:.{digits}f}", rf"\texttt{{{_escape(key)}}}")
            for _, items in questions(net) for tex_, key in items]
    content += [Heading("The answers", 1), Text(f"Every answer of the sheet to {digits} decimals, with its key."),
                Equation(rows)]
    return render_tex(f"{title or 'Backpropagation by hand'}: student {student}, worked solution", content)


def _escape(text: str) -> str:
    return text.replace("_", r"\_")
