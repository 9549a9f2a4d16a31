"""The network as a TikZ picture: neurons by layer, every edge labelled with its weight and value.

Markdown cannot draw it, so `weights_table` gives the same information as a table.
"""

from __future__ import annotations

from derive.core.graph import Role
from derive.render.latex.names import latex_name
from derive.render.latex.printer import number

__all__ = ["tikz", "weights_table"]

COLUMN = 4.2   # cm between layers
ROW = 2.2      # cm between neurons of a layer


def _y(j: int, n: int) -> float:
    return (n - 1) * ROW / 2 - j * ROW


def _edges(graph):
    """(source node, destination node, parameter node) for every weight and bias, in canonical order."""
    out = []
    for layer in graph.layers:
        for dest in layer.nets:
            for parent in dest.local:
                p = graph.nodes[parent]
                if p.role in (Role.WEIGHT, Role.BIAS):
                    src = next((graph.nodes[s] for s, d in dest.local.items()
                                if p.role is Role.WEIGHT and d == p.symbol), None)
                    out.append((src, dest, p))
    return out


def tikz(net) -> str:
    """A tikzpicture of the network: inputs left, outputs right, each weight on its edge, and above each
    layer a bias node '1' with that layer's biases written beside it (dashed edges)."""
    g, preset, values = net.graph, net.graph.notation.name, net.values()
    columns = [list(g.inputs)] + [layer.outs for layer in g.layers]
    lines = [r"\begin{tikzpicture}[>=stealth, every node/.style={font=\small},",
             r"  neuron/.style={circle, draw, thick, minimum size=1.35cm, inner sep=1pt},",
             r"  bias/.style={circle, draw, dashed, minimum size=0.6cm, inner sep=1pt},",
             r"  w/.style={font=\scriptsize, fill=white, inner sep=1pt, sloped, pos=0.27}]"]
    place = {}
    for c, column in enumerate(columns):
        for j, node in enumerate(column):
            key = f"n{c}x{j}"
            place[node.name] = key
            lines.append(rf"\node[neuron] ({key}) at ({c * COLUMN:.2f},{_y(j, len(column)):.2f}) "
                         rf"{{${latex_name(node.name, preset)}$}};")
            if c == 0:
                lines.append(rf"\node[left=2pt of {key}] {{${number(values[node.name], 4)}$}};")
    for o, t in zip(g.outputs, g.targets):
        key = place[o.name]
        lines.append(rf"\node[right=0.5cm of {key}] ({key}t) {{${latex_name(t.name, preset)} = "
                     rf"{number(values[t.name], 4)}$}};")
        lines.append(rf"\draw[->] ({key}) -- ({key}t);")
    top = (max(len(c) for c in columns) - 1) * ROW / 2 + 1.4
    per_layer: dict[int, list[str]] = {}
    for src, dest, p in _edges(g):
        label = rf"{latex_name(p.name, preset)} = {number(values[p.name], 4)}"
        if src is None and label not in per_layer.setdefault(dest.layer, []):
            per_layer[dest.layer].append(label)
    for layer, labels in per_layer.items():       # one bias node a layer, its biases written above it
        x = (layer - 0.4) * COLUMN
        text = r",\ ".join(labels)
        lines.append(rf"\node[bias, label={{[font=\scriptsize]above:${text}$}}] (one{layer}) "
                     rf"at ({x:.2f},{top:.2f}) {{$1$}};")
    for src, dest, p in _edges(g):
        to = place[_out_of(g, dest)]
        if src is None:
            lines.append(rf"\draw[->, dashed, gray] (one{dest.layer}) -- ({to});")
        else:
            label = rf"${latex_name(p.name, preset)} = {number(values[p.name], 4)}$"
            lines.append(rf"\draw[->] ({place[src.name]}) -- node[w, pos={_label_pos(src, dest, g):.2f}] "
                         rf"{{{label}}} ({to});")
    lines.append(r"\end{tikzpicture}")
    return "\n".join(lines)


def _label_pos(src, dest, graph) -> float:
    """Where along its edge a weight's label sits: edges going down are labelled near their source,
    edges going up near their destination, level ones midway, so crossing edges keep apart."""
    columns = [list(graph.inputs)] + [layer.outs for layer in graph.layers]
    y_src = _y(src.index, len(columns[src.layer]))
    y_dest = _y(dest.index, len(columns[dest.layer]))
    if abs(y_src - y_dest) < 1e-9:
        return 0.5
    return 0.25 if y_dest < y_src else 0.75


def _out_of(graph, net_node) -> str:
    """The drawn neuron of a pre-activation: its layer's activation node at the same index."""
    layer = graph.layers[net_node.layer - 1]
    return layer.outs[net_node.index].name


def weights_table(net) -> str:
    """The figure's information as a Markdown table: every parameter, the edge it sits on, its value."""
    g, values = net.graph, net.values()
    rows = ["| parameter | from | to | value |", "|---|---|---|---|"]
    for src, dest, p in _edges(g):
        frm = src.name if src is not None else "1 (bias)"
        rows.append(f"| {p.name} | {frm} | {_out_of(g, dest)} | {number(values[p.name], 6)} |")
    return "\n".join(rows)
