"""The network as a TikZ picture: neurons by layer, every edge labelled with its weight and value.

Markdown cannot draw it, so `weights_table` gives the same information as a table.
"""

from __future__ import annotations

from derive.core.graph import Role
from derive.render.latex.blocks import Equation, Figure, Row, Text
from derive.render.latex.names import latex_name
from derive.render.latex.printer import number

__all__ = ["tikz", "weights_table", "weight_matrices", "Layout", "box", "crosses"]

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


RADIUS = 0.675          # cm: half the neuron's minimum size
CHAR = 0.15             # cm: a generous width of one \scriptsize character (digits, letters, =, −)
LABEL_H = 0.34          # cm: a \scriptsize label's height with its inner sep
POSITIONS = (0.5, 0.35, 0.65, 0.25, 0.75, 0.42, 0.58, 0.3, 0.7, 0.2, 0.8)   # tried along an edge, in order
MAX_LABELLED = 3        # a layer wider than this gets its weights as a matrix beside the figure


def _visible(tex: str) -> int:
    """How many characters a label shows: w_{5} = 0.4 shows 'w5 = 0.4' (8)."""
    bare = tex.replace(r"\mathit", "").replace("_", "").replace("{", "").replace("}", "").replace("$", "")
    return len(bare.replace("\\", ""))


def box(x: float, y: float, text: str) -> tuple[float, float, float, float]:
    """The rectangle (x0, y0, x1, y1) a label centred at (x, y) covers, in cm."""
    w = _visible(text) * CHAR + 0.1
    return (x - w / 2, y - LABEL_H / 2, x + w / 2, y + LABEL_H / 2)


def _overlap(a, b) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def crosses(seg, rect) -> bool:
    """Whether the segment ((x0, y0), (x1, y1)) passes through the rectangle (Liang–Barsky clipping)."""
    (x0, y0), (x1, y1) = seg
    dx, dy, lo, hi = x1 - x0, y1 - y0, 0.0, 1.0
    for p, q in ((-dx, x0 - rect[0]), (dx, rect[2] - x0), (-dy, y0 - rect[1]), (dy, rect[3] - y0)):
        if abs(p) < 1e-12:
            if q < 0:
                return False
            continue
        t = q / p
        if p < 0:
            lo = max(lo, t)
        else:
            hi = min(hi, t)
        if lo > hi:
            return False
    return True


def _trim(a, b, ra: float, rb: float):
    """The segment between two circles' borders (a line is drawn from border to border)."""
    (x0, y0), (x1, y1) = a, b
    d = ((x1 - x0) ** 2 + (y1 - y0) ** 2) ** 0.5
    ux, uy = (x1 - x0) / d, (y1 - y0) / d
    return (x0 + ux * ra, y0 + uy * ra), (x1 - ux * rb, y1 - uy * rb)


class Layout:
    """Where every node, line and label of the figure goes, labels placed so that none overlaps another,
    a neuron, or a line: along its own edge at the first free position, else (a wide layer, or no free
    position) the layer's weights go into a matrix beside the figure."""

    def __init__(self, net):
        g = self.g = net.graph
        self.preset, self.values = g.notation.name, net.sample_evaluations[0].values   # a batch: the parameters
        self.columns = [list(g.inputs)] + [layer.outs for layer in g.layers]
        self.at = {n.name: (c * COLUMN, _y(j, len(col))) for c, col in enumerate(self.columns) for j, n in enumerate(col)}
        self.top = (max(len(c) for c in self.columns) - 1) * ROW / 2 + 1.4
        self.edges = _edges(g)
        self.segments, self.labels, self.matrix_layers = [], {}, []
        self.bias_labels: dict[int, list[tuple[str, tuple[float, float]]]] = {}
        self._lines()
        self._bias_labels()
        self._weight_labels()

    def text(self, p) -> str:
        return rf"{latex_name(p.name, self.preset)} = {number(self.values[p.name], 4)}"

    def bias_at(self, layer: int) -> tuple[float, float]:
        return ((layer - 0.4) * COLUMN, self.top)

    def _lines(self):
        for src, dest, p in self.edges:
            to = self.at[_out_of(self.g, dest)]
            if src is None:
                self.segments.append((p, _trim(self.bias_at(dest.layer), to, 0.3, RADIUS)))
            else:
                self.segments.append((p, _trim(self.at[src.name], to, RADIUS, RADIUS)))

    def _bias_labels(self):
        """Each layer's biases stacked above its bias node, one a line (never run together)."""
        for src, dest, p in self.edges:
            if src is not None:
                continue
            stack = self.bias_labels.setdefault(dest.layer, [])
            if any(t == self.text(p) for t, _ in stack):
                continue
            stack.append((self.text(p), self.bias_at(dest.layer)))
        for layer, stack in self.bias_labels.items():        # the layer's first bias on top
            self.bias_labels[layer] = [(t, (x, y + 0.55 + LABEL_H * (len(stack) - 1 - k)))
                                       for k, (t, (x, y)) in enumerate(stack)]

    def obstacles(self) -> list:
        neurons = [(x - RADIUS, y - RADIUS, x + RADIUS, y + RADIUS) for x, y in self.at.values()]
        biases = [box(x, y, t) for stack in self.bias_labels.values() for t, (x, y) in stack]
        return neurons + biases + [box(x, y, t) for t, (x, y) in self.labels.values()]

    def _weight_labels(self):
        by_layer: dict[int, list] = {}
        for (src, dest, p), (_, seg) in zip(self.edges, self.segments):
            if src is not None:
                by_layer.setdefault(dest.layer, []).append((p, seg))
        for layer, edges in by_layer.items():
            wide = max(len(self.columns[layer - 1]), len(self.columns[layer])) > MAX_LABELLED
            placed = None if wide else self._place(edges)
            if placed is None:
                self.matrix_layers.append(layer)
            else:
                self.labels.update(placed)

    def _place(self, edges) -> dict | None:
        """A free position along its edge for every label of one layer, or None."""
        placed: dict = {}
        for p, ((x0, y0), (x1, y1)) in edges:
            for t in POSITIONS:
                x, y = x0 + t * (x1 - x0), y0 + t * (y1 - y0)
                rect = box(x, y, self.text(p))
                others = self.obstacles() + [box(a, b, t) for t, (a, b) in placed.values()]
                if any(_overlap(rect, o) for o in others):
                    continue
                if any(crosses(seg, rect) for q, seg in self.segments if q is not p):
                    continue
                placed[p.name] = (self.text(p), (x, y))
                break
            else:
                return None
        return placed


def tikz(net) -> str:
    """A tikzpicture of the network: inputs left, outputs right, each weight's label on its edge where it
    fits without touching another label or line (else in a matrix beside the figure: `weight_matrices`),
    and above each layer a bias node '1' with that layer's biases stacked above it (dashed edges)."""
    lay = Layout(net)
    g, preset, values = lay.g, lay.preset, lay.values
    lines = [r"\begin{tikzpicture}[>=stealth, every node/.style={font=\small},",
             r"  neuron/.style={circle, draw, thick, minimum size=1.35cm, inner sep=1pt},",
             r"  bias/.style={circle, draw, dashed, minimum size=0.6cm, inner sep=1pt},",
             r"  w/.style={font=\scriptsize, fill=white, inner sep=1pt}]"]
    place = {}
    for c, column in enumerate(lay.columns):
        for j, node in enumerate(column):
            key = f"n{c}x{j}"
            place[node.name] = key
            x, y = lay.at[node.name]
            lines.append(rf"\node[neuron] ({key}) at ({x:.2f},{y:.2f}) {{${latex_name(node.name, preset)}$}};")
            if c == 0 and not net.spec.samples:   # a batch's inputs differ from sample to sample
                lines.append(rf"\node[left=2pt of {key}] {{${number(values[node.name], 4)}$}};")
    for o, t in zip(g.outputs, g.targets):
        key = place[o.name]
        value = "" if net.spec.samples else f" = {number(values[t.name], 4)}"
        lines.append(rf"\node[right=0.5cm of {key}] ({key}t) {{${latex_name(t.name, preset)}{value}$}};")
        lines.append(rf"\draw[->] ({key}) -- ({key}t);")
    for layer, stack in lay.bias_labels.items():
        x, y = lay.bias_at(layer)
        lines.append(rf"\node[bias] (one{layer}) at ({x:.2f},{y:.2f}) {{$1$}};")
        lines += [rf"\node[w] at ({a:.2f},{b:.2f}) {{${t}$}};" for t, (a, b) in stack]
    for src, dest, p in lay.edges:
        to = place[_out_of(g, dest)]
        if src is None:
            lines.append(rf"\draw[->, dashed, gray] (one{dest.layer}) -- ({to});")
        else:
            lines.append(rf"\draw[->] ({place[src.name]}) -- ({to});")
    for text, (x, y) in lay.labels.values():
        lines.append(rf"\node[w] at ({x:.2f},{y:.2f}) {{${text}$}};")
    lines.append(r"\end{tikzpicture}")
    return "\n".join(lines)


def weight_matrices(net) -> list[tuple[str, str, str]]:
    """For each layer whose weights are not on the edges: (caption, names, values) — W as a matrix of
    names and one of values (LaTeX math), one row per destination neuron, one column per source."""
    lay = Layout(net)
    preset, out = lay.preset, []
    for layer in lay.matrix_layers:
        rows: dict[str, list] = {}
        for src, dest, p in lay.edges:
            if src is not None and dest.layer == layer:
                rows.setdefault(dest.name, []).append(p)
        names = r" \\ ".join(" & ".join(latex_name(p.name, preset) for p in ps) for ps in rows.values())
        nums = r" \\ ".join(" & ".join(number(lay.values[p.name], 4) for p in ps) for ps in rows.values())
        srcs = ", ".join(f"${latex_name(n.name, preset)}$" for n in lay.columns[layer - 1])
        shown = layer + net.graph.notation.first_layer   # the notation's own layer numbers (Nielsen: input is 1)
        out.append((f"Weights into layer {shown} (a row per neuron; columns {srcs}):",
                    rf"\begin{{pmatrix}} {names} \end{{pmatrix}}", rf"\begin{{pmatrix}} {nums} \end{{pmatrix}}"))
    return out


def figure_blocks(net) -> list:
    """The network's figure, and below it, for a layer too wide to label its edges, its weights as matrices."""
    out = [Figure(tikz(net), "The network, with every weight on its edge.", weights_table(net))]
    matrices = weight_matrices(net)
    if matrices:
        out[-1] = Figure(out[-1].tikz, "The network; the weights of its wider layers below, one row per neuron.",
                         out[-1].markdown)
        for caption, names, values in matrices:
            wide = names.split(r" \\ ")[0].count("&") + 1 > 4       # names and values side by side fit 4 columns
            out += [Text(caption), Equation([Row("", names), Row("", "= " + values)] if wide
                                            else [Row(names, "= " + values)])]
    return out


def _out_of(graph, net_node) -> str:
    """The drawn neuron of a pre-activation: its layer's activation node at the same index."""
    layer = graph.layers[net_node.layer - 1]
    return layer.outs[net_node.index].name


def weights_table(net) -> str:
    """The figure's information as a Markdown table: every parameter, the edge it sits on, its value."""
    g, values = net.graph, net.sample_evaluations[0].values
    rows = ["| parameter | from | to | value |", "|---|---|---|---|"]
    for src, dest, p in _edges(g):
        frm = src.name if src is not None else "1 (bias)"
        rows.append(f"| {p.name} | {frm} | {_out_of(g, dest)} | {number(values[p.name], 6)} |")
    return "\n".join(rows)
