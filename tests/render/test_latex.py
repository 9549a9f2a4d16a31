"""LaTeX of derivations: names, numbers, the steps of file 000/003, identities, 7-formula sheets.

Expected strings are written out here as the notes write them (short rows, one per derivation);
expected numbers come from the notes or from a plain-float computation in this file.
"""

import math

import pytest
import sympy as sp

import derive
from derive.render.latex import Numbers, chain, closed, identity, latex_name, number, numbers, repr_latex, update
from derive.render.latex.blocks import aligned
from derive.render.latex.identities import IDENTITIES, Identity, Step
from derive.render.latex.sheets import sheet, sheet_blocks


def text(eq):
    return aligned(eq)


@pytest.fixture(scope="module")
def mazur_f(request):
    from conftest import EXAMPLES
    return derive.load(EXAMPLES / "mazur_2_2_2_F.toml")


@pytest.fixture(scope="module")
def wikidocs():
    from conftest import EXAMPLES
    return derive.load(EXAMPLES / "wikidocs_2_2_2.toml")


# --- names ------------------------------------------------------------------------------------

@pytest.mark.parametrize("preset, name, expected", [
    ("net-out", "net_h1", r"\mathit{net}_{h1}"),
    ("net-out", "out_o1", r"\mathit{out}_{o1}"),
    ("net-out", "target_o1", r"\mathit{target}_{o1}"),
    ("net-out", "E_total", r"E_{\mathit{total}}"),
    ("net-out", "F_t", r"F_{t}"),
    ("net-out", "F_o1", r"F_{o1}"),
    ("net-out", "i1", r"i_{1}"),
    ("net-out", "delta_net_h1", r"\delta_{\mathit{net}_{h1}}"),
    ("net-out", "net_h1_2", r"\mathit{net}_{h1,2}"),
    ("z-h-o", "z3", r"z_{3}"),
    ("z-h-o", "h1", r"h_{1}"),
    ("z-h-o", "E_o1", r"E_{o1}"),
    ("seven", "y1T", r"y_{1T}"),
    ("seven", "yT", r"y_{T}"),
    ("seven", "yE", r"y_{E}"),
    ("seven", "w1E", r"w_{1E}"),
    ("seven", "bE", r"b_{E}"),
    ("seven", "x", "x"),
    ("seven", "E", "E"),
])
def test_names_in_latex(preset, name, expected):
    assert latex_name(name, preset) == expected


@pytest.mark.parametrize("value, digits, expected", [
    (0.02587, 3, "0.0259"), (0.5199893, 3, "0.520"), (0.45, 3, "0.45"), (7.0, 3, "7"), (-3.0, 3, "-3"),
    (1832.0, 3, "1832"), (0.000438568, 3, "0.000439"), (0.02587, 2, "0.026"), (4.385e-5, 3, r"4.39 \times 10^{-5}"),
])
def test_numbers_as_a_hand_calculation_prints_them(value, digits, expected):
    assert number(value, digits) == expected


# --- file 000: the eight derivatives in F/net/out ------------------------------------------------

def frac(num, den):
    return rf"\frac{{\partial {num}}}{{\partial {den}}}"


F = {"F_o1": "F_{o1}", "F_o2": "F_{o2}"}
OUT = {n: rf"\mathit{{out}}_{{{n}}}" for n in ("o1", "o2", "h1", "h2")}
NET = {n: rf"\mathit{{net}}_{{{n}}}" for n in ("o1", "o2", "h1", "h2")}


def file_000_path(o, h, w):
    """∂F_o/∂out_o · ∂out_o/∂net_o · ∂net_o/∂out_h · ∂out_h/∂net_h · ∂net_h/∂w, as file 000 writes it."""
    return r" \cdot ".join([frac(f"F_{{{o}}}", OUT[o]), frac(OUT[o], NET[o]), frac(NET[o], OUT[h]),
                            frac(OUT[h], NET[h]), frac(NET[h], f"w_{{{w}}}")])


@pytest.mark.parametrize("w, h", [(1, "h1"), (2, "h1"), (3, "h2"), (4, "h2")])
def test_file_000_hidden_weights_two_paths(mazur_f, w, h):
    got = text(chain(mazur_f.derivation(f"w{w}")))
    expected = (frac("F_{t}", f"w_{{{w}}}") + " &= " + file_000_path("o1", h, w) + r" \\  &+ "
                + file_000_path("o2", h, w))
    assert got == r"\begin{aligned}" + expected + r"\end{aligned}"


@pytest.mark.parametrize("w, o", [(5, "o1"), (6, "o1"), (7, "o2"), (8, "o2")])
def test_file_000_output_weights_one_path(mazur_f, w, o):
    got = text(chain(mazur_f.derivation(f"w{w}")))
    expected = (frac("F_{t}", f"w_{{{w}}}") + " &= " + frac(f"F_{{{o}}}", OUT[o]) + r" \cdot "
                + frac(OUT[o], NET[o]) + r" \cdot " + frac(NET[o], f"w_{{{w}}}"))
    assert got == r"\begin{aligned}" + expected + r"\end{aligned}"


@pytest.mark.parametrize("factor", [
    frac("F_{o1}", OUT["o1"]) + r" &= - (\mathit{target}_{o1} - \mathit{out}_{o1})",
    frac(OUT["o1"], NET["o1"]) + r" &= \mathit{out}_{o1} \cdot \left(1 - \mathit{out}_{o1}\right)",
    frac(NET["o1"], OUT["h1"]) + " &= w_{5}",
    frac(OUT["h1"], NET["h1"]) + r" &= \mathit{out}_{h1} \cdot \left(1 - \mathit{out}_{h1}\right)",
    frac(NET["h1"], "w_{1}") + " &= i_{1}",
    frac(NET["o2"], OUT["h1"]) + " &= w_{7}",
    r"&- (\mathit{target}_{o2} - \mathit{out}_{o2}) \cdot \mathit{out}_{o2} \cdot "     # no + (−(…)): the sign leads
    r"\left(1 - \mathit{out}_{o2}\right) \cdot w_{7} \cdot \mathit{out}_{h1} \cdot \left(1 - \mathit{out}_{h1}\right) \cdot i_{1}",
])
def test_file_000_closed_forms_of_w1(mazur_f, factor):
    assert factor in text(closed(mazur_f.derivation("w1")))


def test_long_path_sums_break_after_each_path(mazur_f):
    rows = text(chain(mazur_f.derivation("b1"))).split(r"\\")
    assert len(rows) == 4                   # four paths to the shared hidden bias, one per row
    assert all(r.split("&")[1].count(r"\frac") == 5 for r in rows)


def test_a_long_path_continues_on_the_next_line():
    from conftest import EXAMPLES
    from derive.render.latex.steps import FACTORS_PER_LINE
    net = derive.load(EXAMPLES / "forward_3_layer.toml")      # 2-3-2-2: seven factors a path
    rows = text(chain(net.derivation("w1"))).split(r"\\")
    assert len(rows) == 2 * len(net.derivation("w1").paths)
    assert all(r.split("&")[1].count(r"\frac") <= FACTORS_PER_LINE for r in rows)


# --- file 003: the hand calculation ------------------------------------------------------------

def sigmoid(x):
    return 1 / (1 + math.exp(-x))


def file_003_w5():
    """∂E_total/∂o1, ∂o1/∂z3, ∂z3/∂w5 and w5⁺ by plain floats (file 003's network)."""
    h1, h2 = sigmoid(0.3 * 0.1 + 0.25 * 0.2), sigmoid(0.4 * 0.1 + 0.35 * 0.2)
    o1 = sigmoid(0.45 * h1 + 0.4 * h2)
    factors = [o1 - 0.4, o1 * (1 - o1), h1]
    g = math.prod(factors)
    return factors, g, 0.45 - 0.5 * g


def test_file_003_w5_line_as_printed(wikidocs):
    # the notes: 0.209 * 0.238 * 0.519 = 0.0259 (they cut h1 = 0.51999 to 0.519; rounding gives 0.520)
    got = text(numbers(wikidocs.derivation("w5"), Numbers(wikidocs, 3)))
    assert r"= 0.209 \times 0.238 \times 0.520 = 0.0259" in got


def test_file_003_update_as_printed(wikidocs):
    got = text(update(wikidocs.derivation("w5"), Numbers(wikidocs, 3)))
    assert got.endswith(r"= 0.45 - 0.5 \times 0.0259 = 0.437\end{aligned}")


@pytest.mark.parametrize("digits", [2, 4, 6])
def test_file_003_digits_are_configurable(wikidocs, digits):
    factors, g, new = file_003_w5()
    show = lambda x: f"{x:#.{digits}g}".rstrip(".")
    expected = r" \times ".join(show(f) for f in factors) + f" = {show(g)}"
    assert expected in text(numbers(wikidocs.derivation("w5"), Numbers(wikidocs, digits)))


def test_update_shows_enough_digits_to_see_the_change(wikidocs):
    # file 003: w1+ = 0.3 − 0.5 × 0.0008; at 3 digits the result would read 0.300 = w1
    got = text(update(wikidocs.derivation("w1"), Numbers(wikidocs, 3)))
    assert got.endswith(r"= 0.3 - 0.5 \times 0.000809 = 0.2996\end{aligned}")


def test_untrained_parameters_say_so(mazur_f):
    assert r"\text{(not trained)}" in text(update(mazur_f.derivation("b1"), Numbers(mazur_f)))


def test_jupyter_repr(mazur_f):
    d = mazur_f.derivation("w5")
    assert d._repr_latex_() == repr_latex(d)
    assert d._repr_latex_().startswith(r"$$\begin{aligned}" + frac("F_{t}", "w_{5}"))


# --- identities ----------------------------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(IDENTITIES))
def test_every_step_of_every_identity_is_proved(name):
    proofs = identity(name).proofs()
    assert proofs and all(proofs), [p.detail for p in proofs]


@pytest.mark.parametrize("name, ending", [
    ("sigmoid", r"= \mathit{out} \cdot \left(1 - \mathit{out}\right)"),
    ("tanh", r"= 1 - \mathit{out}^{2}"),
    ("softmax", r"= a_{1} \cdot \left(1 - a_{1}\right)"),
    ("softmax_offdiagonal", r"= - a_{2} \cdot a_{1}"),
    ("softmax_cross_entropy", r"= - (y_{1} - a_{1})"),
])
def test_identities_end_as_the_notes_do(name, ending):
    assert ending in identity(name).equation().rows[-1].rhs


def test_sigmoid_second_step_as_file_000_writes_it():
    assert identity("sigmoid").equation().rows[1].rhs == r"= - \left(1 + e^{- x}\right)^{-2} \cdot \left(- e^{- x}\right)"


def test_a_wrong_step_is_caught():
    x = sp.Symbol("x", real=True)
    wrong = Identity("wrong", "f'", [Step(sp.Derivative(sp.exp(2 * x), x)), Step(sp.exp(2 * x))], {})
    assert not wrong.proofs()[0]
    assert r"\text{NOT PROVED}" in wrong.equation().rows[1].note


# --- 7-formula sheets ----------------------------------------------------------------------------

def sheet_values(net):
    s, _ = sheet(net)
    return {line.name: line.value for lines in s.formulas.values() for line in lines}, s


@pytest.mark.parametrize("example, expected", [
    ("seven_1_1", {"y": 7, "E": 4.5, "yE": -3, "xE": -9, "wE": -6, "bE": -3}),
    ("seven_2_1", {"y": 19, "E": 32, "yE": -8, "w1E": -16, "w2E": -24, "bE": -8}),
    ("seven_2_2", {"y1": 19, "y2": 30, "E": 1832, "y1E": -8, "y2E": 60, "w1E": -16, "w2E": -24, "b1E": -8,
                   "w3E": 120, "w4E": 180, "b2E": 60}),
])
def test_sheet_numbers_are_file_004s(example, expected):
    from conftest import EXAMPLES
    values, _ = sheet_values(derive.load(EXAMPLES / f"{example}.toml"))
    for name, value in expected.items():
        assert values[name] == pytest.approx(value, rel=1e-12), name


@pytest.mark.parametrize("example", ["seven_1_1", "seven_2_1", "seven_2_2", "seven_2_2_2", "seven_2_3", "seven_3_2"])
def test_every_back_propagated_quantity_is_proved_a_partial_derivative(example):
    from conftest import EXAMPLES
    _, s = sheet_values(derive.load(EXAMPLES / f"{example}.toml"))
    proved = [line for k in (3, 4, 6) for line in s.formulas[k]]
    assert proved and all(line.proof for line in proved)
    assert all(line.proof.method == "cancel" for line in proved)      # linear nets: exact, in a polynomial ring


def test_sheet_of_a_keras_mse_network_writes_and_proves_its_own_output_error():
    net = derive.network([2, 1], ["identity"], inputs=[2, 3], targets=[27], weights=[3, 4], biases=[1],
                         loss="mse", notation="net-out", learning_rate=0.01)
    s, _ = sheet(net)
    yE = s.formulas[3][0]
    assert yE.text != "y - y_{T}"                        # E = (y − yT)²: ∂E/∂y = 2(y − yT), not y − yT
    assert yE.proof and yE.value == pytest.approx(2 * (19 - 27))
    assert all(line.proof for k in (3, 4, 6) for line in s.formulas[k])


def test_a_wrong_back_propagated_formula_is_not_proved():
    from conftest import EXAMPLES
    s, b = sheet(derive.load(EXAMPLES / "seven_2_2_2.toml"))
    h1 = b.graph.nodes["h1"]
    y1E, y2E, w5, w6 = sp.symbols("y1E y2E w5 w6", real=True)
    assert b.prove(y1E * w5 + y2E * w6, h1).holds is False     # h1E uses w7, not w6 (file 004)
    assert b.prove(y1E * w5 + y2E * sp.Symbol("w7", real=True), h1).holds


@pytest.mark.parametrize("row", [
    r"y &= x \cdot w + 1 \cdot b \\  &= 2 \times 3 + 1 \times 1 = 7",
    r"y_{E} &= y - y_{T} && y_{E} = \frac{\partial E}{\partial y}\ \ \text{proved by SymPy} \\  &= 7 - 10 = -3",
    r"w_{E} &= y_{E} \cdot x && w_{E} = \frac{\partial E}{\partial w}\ \ \text{proved by SymPy} \\  &= \left(-3\right) \times 2 = -6",
    r"b_{E} &= y_{E} \cdot 1 && b_{E} = \frac{\partial E}{\partial b}\ \ \text{proved by SymPy} \\  &= \left(-3\right) \times 1 = -3",
    r"w' &= w - \mathrm{lr} \cdot w_{E} = 3 - 0.01 \times \left(-6\right) = 3.06",
    r"b' &= b - \mathrm{lr} \cdot b_{E} = 1 - 0.01 \times \left(-3\right) = 1.03",
])
def test_sheet_rows_of_the_1_1_neuron(row):
    from conftest import EXAMPLES
    from derive.render.latex.blocks import Equation
    eqs = [b for b in sheet_blocks(derive.load(EXAMPLES / "seven_1_1.toml")) if isinstance(b, Equation)]
    assert any(row in aligned(eq) for eq in eqs)


def test_hidden_back_propagation_as_file_004_writes_it():
    from conftest import EXAMPLES
    s, _ = sheet(derive.load(EXAMPLES / "seven_2_2_2.toml"))
    texts = {line.name: line.text for line in s.formulas[4]}
    assert texts["h1E"] == r"y_{1E} \cdot w_{5} + y_{2E} \cdot w_{7}"
    assert texts["h2E"] == r"y_{1E} \cdot w_{6} + y_{2E} \cdot w_{8}"
    assert {line.name: line.text for line in s.formulas[6]}["w1E"] == r"h_{1E} \cdot x_{1}"


def test_sheets_need_linear_networks(mazur_f):
    with pytest.raises(derive.NotSupported):
        sheet(mazur_f)


def test_file_003_w1_through_the_shared_back_propagated_error(wikidocs):
    # the notes: ∂E_total/∂h1 = 0.022 + 0.009 = 0.031 and ∂E_total/∂w1 = 0.031 × 0.250 × 0.1 = 0.0008
    # (printed cut short); here every number is rounded from the exact value, computed by plain floats:
    from derive.render.latex.steps import shared
    h1, h2 = sigmoid(0.08), sigmoid(0.11)
    o1, o2 = sigmoid(0.45 * h1 + 0.4 * h2), sigmoid(0.7 * h1 + 0.6 * h2)
    d3, d4 = (o1 - 0.4) * o1 * (1 - o1), (o2 - 0.6) * o2 * (1 - o2)
    dh1 = d3 * 0.45 + d4 * 0.7
    show = lambda x: f"{x:#.3g}".rstrip(".")
    got = text(shared(wikidocs.derivation("w1"), Numbers(wikidocs, 3)))
    assert (rf"= {show(dh1)} \times {show(h1 * (1 - h1))} \times 0.1 = {show(dh1 * h1 * (1 - h1) * 0.1)}") in got
    assert (rf"= {show(d3)} \times 0.45 + {show(d4)} \times 0.7 = {show(d3 * 0.45)} + {show(d4 * 0.7)} = {show(dh1)}") in got
    assert r"\frac{\partial E_{\mathit{total}}}{\partial h_{1}} &= " in got


def test_shared_step_is_left_out_where_it_adds_nothing(wikidocs, mazur_f):
    from derive.render.latex.steps import shared
    assert shared(wikidocs.derivation("w5"), Numbers(wikidocs)).rows == []     # an output weight: one path
    assert shared(mazur_f.derivation("b1"), Numbers(mazur_f)).rows == []       # a bias shared by two neurons


# --- notation a lecturer writes (issue 11) ---------------------------------------------------------

def _relu_net(acts=("relu", "tanh")):
    # net_h1 = 0.1·0.5 + 0.2·(−0.3) + 0.1 = 0.09 > 0; net_h2 = −0.3·0.5 + 0.4·(−0.3) − 0.2 = −0.47
    return derive.network([2, 2, 2], list(acts), inputs=[0.5, -0.3], targets=[0.7, 0.2],
                          weights=[0.1, 0.2, -0.3, 0.4, 0.5, -0.6, 0.7, 0.8], biases=[0.1, -0.2, 0.3, 0.1],
                          learning_rate=0.1)


def test_relu_derivative_is_a_step_in_latex():
    from derive.render.latex.steps import closed
    got = text(closed(_relu_net().derivation("w1")))
    assert r"\mathbf{1}\left[\mathit{net}_{h1} > 0\right]" in got
    assert "theta" not in got and "Heaviside" not in got


def test_relu_derivative_is_a_step_in_the_terminal():
    from derive.render.text import derivation_text
    net = _relu_net()
    out = derivation_text(net.derivation("w1"), net.values())
    assert "𝟙[net_h1 > 0]" in out and "Heaviside" not in out


def test_a_negative_number_inside_a_function_gets_no_second_bracket():
    """tanh(−0.47), not tanh((−0.47)): the function's own brackets are enough."""
    from derive.render.latex.printer import with_numbers
    net = _relu_net(("tanh", "sigmoid"))
    got = with_numbers(net.graph.nodes["out_h2"].definition, net.values(), 3)
    assert got == r"\tanh{\left(-0.47 \right)}"


def test_no_minus_zero_and_no_minus_of_a_negative():
    """−t·log o with t = 0 prints 0 × log(0.386); 1/(1 + e^{−net}) at net = −0.45 prints e^{0.45}."""
    from derive.render.latex.printer import with_numbers
    from conftest import EXAMPLES
    net = derive.load(EXAMPLES / "tanh_softmax_3_4_2.toml")
    assert with_numbers(net.graph.nodes["E_o2"].definition, net.values()) == r"0 \times \log{\left(0.386 \right)}"
    # net_o1 = 0.1·0.5 + 0.5·(−1) + 0 = −0.45
    net = derive.network([2, 2], ["sigmoid"], inputs=[0.5, -1], targets=[0.2, 0.8], weights=[0.1, 0.5, 0.2, 0.3],
                         biases=[0, 0])
    assert with_numbers(net.graph.nodes["out_o1"].definition, net.values()) == r"\frac{1}{1 + e^{0.45}}"


DEEP_SEVEN = """\
title = "2-3-2-4-2 linear network in file 004's notation (fuzz campaign, seed 7, case 1652)"
[network]
layers = [2, 3, 2, 4, 2]
activations = ["identity", "identity", "identity", "identity"]
loss = "half_sse"
bias = "per_neuron"
notation = "seven"
[values]
inputs = [-0.839, -0.507]
targets = [0.0, 1.0]
weights = [-0.868, 0.213, 0.516, 0.085, -0.645, -0.524, 0.275, 0.799, 0.018, -0.938, -0.805, 0.817, 0.364,
           -0.881, -0.096, -0.835, -0.506, -0.124, 0.122, -0.287, 0.102, -0.934, -0.744, -0.874, 0.118,
           -0.246, 0.613, 0.042]
biases = [-0.91, -0.346, 0.701, 0.91, 0.662, 0.963, 0.928, -0.912, 0.584, -0.639, 0.677]
learning_rate = 0.01
"""


def test_a_deep_linear_sheet_is_proved_without_simplify(tmp_path, monkeypatch):
    """The campaign's hang: notes on this 34-parameter net ran simplify 44 times (40 s); a linear net's
    differences are polynomials, decided in a polynomial ring instead."""
    from derive.core import proof
    spec = tmp_path / "deep_seven.toml"
    spec.write_text(DEEP_SEVEN)
    monkeypatch.setattr(proof.sp, "simplify", lambda e, *a, **k: pytest.fail(f"simplify called on {e}"))
    proof._proved.cache_clear()
    values, s = sheet_values(derive.load(spec))
    proved = [line for k in (3, 4, 6) for line in s.formulas[k]]
    assert len(proved) >= 34 and all(line.proof.holds and line.proof.method == "cancel" for line in proved)
