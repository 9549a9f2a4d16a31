"""The network figure: no two labels overlap, and no line passes through a label, measured on the TikZ
that tikz() writes (coordinates in cm; a label's box from its visible characters at \\scriptsize)."""

import re
from pathlib import Path

import pytest

import derive
from derive.render.latex.figure import tikz, weight_matrices

ROOT = Path(__file__).resolve().parents[2]
CHAR_CM, LABEL_CM, NEURON_R, BIAS_R = 0.15, 0.34, 0.675, 0.3    # \scriptsize glyphs, 1.35 cm neurons


def _net(layers, acts, bias="per_neuron"):
    n_w = sum(a * b for a, b in zip(layers, layers[1:]))
    n_b = {"per_neuron": sum(layers[1:]), "shared": len(layers) - 1, "none": 0}[bias]
    return derive.network(layers, acts, inputs=[0.1 * (i + 1) for i in range(layers[0])],
                          targets=[0.5] * layers[-1], weights=[round(0.05 * (i + 1) - 0.4, 2) for i in range(n_w)],
                          biases=[0.1 * (i + 1) for i in range(n_b)], bias=bias)


NETS = {p.stem: (lambda p=p: derive.load(p)) for p in sorted((ROOT / "worked_examples").glob("*.toml"))
        if "[data]" not in p.read_text()}
NETS.update({"3-3-3": lambda: _net([3, 3, 3], ["sigmoid", "sigmoid"]),
             "2-3-2 shared": lambda: _net([2, 3, 2], ["tanh", "sigmoid"], "shared"),
             "3-4-2": lambda: _net([3, 4, 2], ["tanh", "softmax"]),
             "1-3-1": lambda: _net([1, 3, 1], ["relu", "identity"]),
             "2-2-2-2": lambda: _net([2, 2, 2, 2], ["sigmoid"] * 3)})


def _visible(text):
    return len(re.sub(r"\\mathit|[_{}$\\]", "", text))


def measure(picture):
    """Label boxes and line segments, read back from the TikZ source."""
    at = {k: (float(x), float(y)) for k, x, y in re.findall(r"\\node\[(?:neuron|bias)\] \((\w+)\) at \(([-\d.]+),([-\d.]+)\)", picture)}
    radius = {k: (BIAS_R if k.startswith("one") else NEURON_R) for k in at}
    boxes = []
    for x, y, text in re.findall(r"\\node\[w\] at \(([-\d.]+),([-\d.]+)\) \{(.*)\};", picture):
        w = _visible(text) * CHAR_CM + 0.1
        boxes.append((text, (float(x) - w / 2, float(y) - LABEL_CM / 2, float(x) + w / 2, float(y) + LABEL_CM / 2)))
    segments = []
    for a, b in re.findall(r"\\draw\[[^\]]*\] \((\w+)\) -- \((\w+)\);", picture):
        if a in at and b in at:
            (x0, y0), (x1, y1) = at[a], at[b]
            d = ((x1 - x0) ** 2 + (y1 - y0) ** 2) ** 0.5
            ux, uy = (x1 - x0) / d, (y1 - y0) / d
            segments.append(((x0 + ux * radius[a], y0 + uy * radius[a]), (x1 - ux * radius[b], y1 - uy * radius[b])))
    return at, radius, boxes, segments


def _overlap(a, b):
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _through(seg, r, steps=400):
    """Sampled: does the segment pass through the rectangle (beyond its own label's edge)?"""
    (x0, y0), (x1, y1) = seg
    return any(r[0] < x0 + (x1 - x0) * i / steps < r[2] and r[1] < y0 + (y1 - y0) * i / steps < r[3]
               for i in range(steps + 1))


@pytest.mark.parametrize("name", sorted(NETS))
def test_no_label_overlaps_another_or_a_neuron_or_a_line(name):
    at, radius, boxes, segments = measure(tikz(NETS[name]()))
    assert boxes, "the figure has labels"
    for i, (t1, b1) in enumerate(boxes):
        for t2, b2 in boxes[i + 1:]:
            assert not _overlap(b1, b2), f"{t1} overlaps {t2}"
        for k, (x, y) in at.items():
            assert not _overlap(b1, (x - radius[k], y - radius[k], x + radius[k], y + radius[k])), f"{t1} on {k}"
        crossing = [s for s in segments if _through(s, b1)]
        assert len(crossing) <= 1, f"{len(crossing)} lines pass through {t1}"     # only its own edge


def test_a_wide_layer_puts_its_weights_in_a_matrix():
    net = NETS["3-4-2"]()
    picture = tikz(net)
    assert "w_{1} = " not in picture              # not on the edges ...
    matrices = weight_matrices(net)               # ... but beside the figure, one row per neuron
    assert len(matrices) == 2 and r"w_{1} & w_{2} & w_{3} \\ w_{4}" in matrices[0][1]
    assert r"\begin{pmatrix} 0.25 & 0.3 & 0.35 & 0.4 \\ 0.45" in matrices[1][2]      # w13..w16, w17..


def test_biases_are_stacked_one_a_line():
    boxes = measure(tikz(NETS["3-4-2"]()))[2]
    bias_boxes = [b for t, b in boxes if t.startswith("$b_")]
    assert len(bias_boxes) == 6
    assert all(not _overlap(a, b) for i, a in enumerate(bias_boxes) for b in bias_boxes[i + 1:])


def test_the_measure_sees_an_overlap_and_a_crossing():
    """The check itself can fail: two labels at the same place, and a line through a label."""
    picture = "\n".join([r"\node[neuron] (a) at (0.00,0.00) {$a$};", r"\node[neuron] (b) at (4.20,0.00) {$b$};",
                         r"\node[neuron] (c) at (4.20,2.20) {$c$};", r"\draw[->] (a) -- (b);", r"\draw[->] (a) -- (c);",
                         r"\node[w] at (2.00,0.00) {$w_{1} = 0.15$};", r"\node[w] at (2.30,0.05) {$w_{2} = 0.2$};"])
    at, radius, boxes, segments = measure(picture)
    assert _overlap(boxes[0][1], boxes[1][1])
    assert sum(_through(s, boxes[1][1]) for s in segments) == 1
    assert _through(segments[1], box_at(2.1, 1.1))


def box_at(x, y):
    return (x - 0.5, y - 0.17, x + 0.5, y + 0.17)


def test_weight_matrix_captions_count_layers_as_the_notation_does():
    """Nielsen numbers the input layer 1, so a 2-2-2 net's weights go into layers 2 and 3."""
    captions = [c for c, _, _ in weight_matrices(derive.load(ROOT / "worked_examples" / "nielsen_2_2_2.toml"))]
    assert [c.split(" (")[0] for c in captions] == ["Weights into layer 2", "Weights into layer 3"]
