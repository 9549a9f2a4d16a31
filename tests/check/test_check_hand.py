"""Hand values against exact ones: each verdict (rounded, truncated, propagated, mismatch) right,
the worked examples' printed values explained, bad keys one line and exit 2.

Expected verdicts come from the notes' printed strings and from tests/reference.py (plain floats,
no derive code): a value is expected "rounded" when Python rounds the reference value to the
printed string, "truncated" when only cutting does.
"""

import json
import math
import subprocess
import sys
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest

import derive
import reference as ref
from derive.check.hand import decimals, fit
from derive.cli import main


def run(*args):
    return subprocess.run([sys.executable, "-m", "derive", *map(str, args)], capture_output=True, text=True)


def cut(x: float, text: str, how) -> str:
    """The reference float cut to the printed digits, independently of derive."""
    step = Decimal(1).scaleb(Decimal(text).as_tuple().exponent)
    return str(Decimal(repr(x)).quantize(step, rounding=how))


# --- file 003 (wikidocs), independently: forward values and the gradients from reference.py ---------
X, T, W = [0.1, 0.2], [0.4, 0.6], [0.3, 0.25, 0.4, 0.35, 0.45, 0.4, 0.7, 0.6]
(Z_H, Z_O), (_, H, O) = ref.forward([2, 2, 2], ["sigmoid", "sigmoid"], W, [], "none", X)
E = [0.5 * (t - o) ** 2 for t, o in zip(T, O)]
LOSS, _, GW, _ = ref.gradients([2, 2, 2], ["sigmoid", "sigmoid"], "half_sse", W, [], "none", X, T)
D_O1_Z3 = O[0] * (1 - O[0])
D_EO1_H1 = (O[0] - T[0]) * D_O1_Z3 * W[4]
D_EO2_H1 = (O[1] - T[1]) * O[1] * (1 - O[1]) * W[6]
REFERENCE = {
    "z1": Z_H[0], "z2": Z_H[1], "h1": H[0], "h2": H[1], "z3": Z_O[0], "z4": Z_O[1], "o1": O[0], "o2": O[1],
    "E_o1": E[0], "E_o2": E[1], "E_total": LOSS, "dE_total/do1": O[0] - T[0], "do1/dz3": D_O1_Z3,
    "dz3/dw5": H[0], "dE_total/dw5": GW[4], "w5+": W[4] - 0.5 * GW[4], "dE_o1/dh1": D_EO1_H1,
    "dE_o2/dh1": D_EO2_H1, "dE_total/dh1": D_EO1_H1 + D_EO2_H1, "dh1/dz1": H[0] * (1 - H[0]),
    "dz1/dw1": X[0], "dE_total/dw1": GW[0],
}


@pytest.fixture(scope="module")
def wikidocs():
    return derive.load(Path(__file__).resolve().parents[2] / "worked_examples" / "wikidocs_2_2_2.toml")


@pytest.fixture(scope="module")
def wikidocs_report(wikidocs):
    return wikidocs.check_hand()


def test_exact_values_equal_an_independent_float_computation(wikidocs_report):
    exact = {c.name: c.exact for c in wikidocs_report.checks}
    assert set(exact) == set(REFERENCE)
    for name, value in REFERENCE.items():
        assert exact[name] == pytest.approx(value, rel=1e-12, abs=1e-15), name


def test_file_003_every_printed_value_is_explained(wikidocs_report):
    assert wikidocs_report.ok
    for c in wikidocs_report.checks:
        x = REFERENCE[c.name]
        if cut(x, c.hand, ROUND_HALF_UP) == c.hand:
            assert c.verdict == "rounded", c.name
        elif cut(x, c.hand, ROUND_DOWN) == c.hand:
            assert c.verdict == "truncated", c.name
        else:
            assert c.verdict == "propagated", c.name
        assert c.explanation


def test_file_003_truncates_where_rounding_would_change_the_last_digit(wikidocs_report):
    verdicts = wikidocs_report.verdicts()
    truncated = {k for k, v in verdicts.items() if v == "truncated"}
    assert truncated == {"h1", "z3", "o2", "E_o1", "E_total", "dz3/dw5", "dE_o2/dh1"}
    assert round(H[0], 3) == 0.52 and round(D_EO2_H1, 3) == 0.01 and round(LOSS, 3) == 0.024


def test_file_003_dE_total_dh1_is_the_sum_of_the_two_printed_terms(wikidocs_report):
    c = next(c for c in wikidocs_report.checks if c.name == "dE_total/dh1")
    assert c.verdict == "propagated"
    assert round(REFERENCE["dE_total/dh1"], 3) == 0.032           # not what the notes print
    assert c.propagated_from == {"dE_o1/dh1": "0.022", "dE_o2/dh1": "0.009"}
    assert c.recomputed == pytest.approx(0.022 + 0.009, abs=1e-15)
    assert "0.022 + 0.009" in c.explanation


# --- each verdict on purpose-made tables ------------------------------------------------------------

def test_each_verdict_on_a_made_up_table(wikidocs):
    hand = {
        "o1": "0.6094",              # exact 0.609446 → rounded
        "h1": "0.5199",              # exact 0.5199893 → rounds to 0.5200, cut 0.5199
        "dE_total/do1": "0.209", "do1/dz3": "0.238", "dz3/dw5": "0.519",
        "dE_total/dw5": "0.0258",    # exact 0.025923 → 0.0259; 0.209·0.238·0.519 = 0.025816 → 0.0258
        "w5+": "0.4371",             # exact 0.437039 → 0.4370; 0.45 − 0.5·0.0258 = 0.4371
        "o2": "0.5",                 # wrong
    }
    assert 0.209 * 0.238 * 0.519 == pytest.approx(0.0258161, abs=1e-7)
    report = derive.check_hand(wikidocs, hand)
    assert report.verdicts() == {"o1": "rounded", "h1": "truncated", "dE_total/do1": "rounded",
                                 "do1/dz3": "rounded", "dz3/dw5": "truncated", "dE_total/dw5": "propagated",
                                 "w5+": "propagated", "o2": "mismatch"}
    by = {c.name: c for c in report.checks}
    assert by["dE_total/dw5"].propagated_from == {"dE_total/do1": "0.209", "do1/dz3": "0.238", "dz3/dw5": "0.519"}
    assert by["w5+"].propagated_from == {"dE_total/dw5": "0.0258"}
    assert not report.ok and [c.name for c in report.mismatches] == ["o2"]


def test_rounding_wins_over_propagation(wikidocs):
    # E_total = 0.024 is the exact value rounded, and also E_o1 + E_o2 = 0.022 + 0.002
    report = derive.check_hand(wikidocs, {"E_o1": "0.022", "E_o2": "0.002", "E_total": "0.024"})
    assert report.verdicts()["E_total"] == "rounded"


def test_propagated_softmax_from_rounded_logits():
    """File 001: probabilities (0.5, 0.2, 0.1) → z = (0.0, −1.39, −2.20) → softmax 0.74 (exact 0.73)."""
    z = [0.0, math.log(0.2 / 0.8), math.log(0.1 / 0.9)]
    net = derive.network([1, 3], ["softmax"], inputs=[1.0], targets=[1.0, 0.0, 0.0], weights=z,
                         loss="cross_entropy", bias="none",
                         hand={"net_o1": "0.0", "net_o2": "-1.39", "net_o3": "-2.20", "out_o1": "0.74"})
    exact = 1 / sum(math.exp(v) for v in z)
    from_printed = 1 / (1 + math.exp(-1.39) + math.exp(-2.20))
    assert round(exact, 2) == 0.73 and round(from_printed, 2) == 0.74
    report = net.check_hand()
    assert report.verdicts() == {"net_o1": "rounded", "net_o2": "rounded", "net_o3": "rounded",
                                 "out_o1": "propagated"}
    assert report.checks[-1].recomputed == pytest.approx(from_printed, rel=1e-12)


def test_partials_between_any_two_quantities(wikidocs):
    hand = {"dE_o1/dz3": "0", "dh1/dw5": "0", "dE_o2/do1": "0", "dz3/dz3": "1", "dE_total/dt1": "0"}
    report = derive.check_hand(wikidocs, hand)
    exact = {c.name: c.exact for c in report.checks}
    assert exact["dE_o1/dz3"] == pytest.approx((O[0] - T[0]) * D_O1_Z3, rel=1e-12)
    assert exact["dh1/dw5"] == 0 and exact["dE_o2/do1"] == 0 and exact["dz3/dz3"] == 1
    assert exact["dE_total/dt1"] == pytest.approx(T[0] - O[0], rel=1e-12)


def test_seven_and_forward_examples_all_rounded(examples):
    for name in ["seven_1_1", "seven_2_1", "seven_2_2", "forward_3_layer"]:
        report = derive.load(examples / f"{name}.toml").check_hand()
        assert report.checks and set(report.verdicts().values()) == {"rounded"}, name


def test_seven_aliases_and_updates(examples):
    net = derive.load(examples / "seven_2_1.toml")
    report = derive.check_hand(net, {"w1E": "-16", "dE/dw1": "-16", "dE/dy": "-8", "w1+": "3.15", "b+": "1.08"})
    assert report.verdicts() == {"w1E": "rounded", "dE/dw1": "rounded", "dE/dy": "rounded", "w1+": "mismatch",
                                 "b+": "rounded"}
    assert "3.16" in report.checks[3].explanation


@pytest.mark.parametrize("text, places", [("0.69630", 5), ("1832.0", 1), ("-3", 0), ("0.0008", 4), ("15e1", -1)])
def test_printed_digits(text, places):
    assert decimals(text) == places


@pytest.mark.parametrize("value, text, verdict", [
    (0.5199893, "0.519", "truncated"), (0.5199893, "0.520", "rounded"), (-2.55, "-2.5", "truncated"),
    (0.0125, "0.013", "rounded"), (0.0125, "0.012", "rounded"), (1832, "1832.0", "rounded"), (7.15, "7.2", "rounded"),
    (0.5199893, "0.518", None), (154, "15e1", "rounded"), (-3, "-3", "rounded"),
])
def test_fit(value, text, verdict):
    import sympy as sp
    assert fit(sp.Rational(repr(value)) if isinstance(value, float) else sp.Integer(value), text) == verdict


# --- the command line ---------------------------------------------------------------------------------

def test_cli_wikidocs_exits_0_and_shows_exact_beside_printed(examples):
    done = run("check", examples / "wikidocs_2_2_2.toml")
    assert done.returncode == 0, done.stderr
    line = next(l for l in done.stdout.splitlines() if l.startswith("h1 "))
    assert "0.519" in line and "0.5199893" in line and "truncated" in line
    assert "0.022 + 0.009 = 0.031" in done.stdout


def test_cli_json_contract(examples, capsys):
    assert main(["check", str(examples / "wikidocs_2_2_2.toml"), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert set(data) == {"checks"}
    for c in data["checks"]:
        assert {"name", "hand", "exact", "verdict", "digits", "explanation"} <= set(c)
        assert c["verdict"] in ("rounded", "truncated", "propagated", "mismatch")
    prop = next(c for c in data["checks"] if c["verdict"] == "propagated")
    assert prop["propagated_from"] and isinstance(prop["recomputed"], float)


SPEC = """[network]
layers = [2, 2, 2]
activations = ["sigmoid", "sigmoid"]
bias = "none"
notation = "z-h-o"
[values]
inputs = [0.1, 0.2]
targets = [0.4, 0.6]
weights = [0.3, 0.25, 0.4, 0.35, 0.45, 0.4, 0.7, 0.6]
learning_rate = 0.5
[hand]
"""


def test_cli_one_wrong_value_exits_1_and_names_it(tmp_path):
    spec = tmp_path / "one_wrong.toml"
    spec.write_text(SPEC + 'h1 = "0.519"\no1 = "0.609"\n"dE_total/dw5" = "0.0295"\n')
    done = run("check", spec)
    assert done.returncode == 1
    assert "MISMATCH: dE_total/dw5" in done.stdout
    assert "0.02592286" in done.stdout


@pytest.mark.parametrize("key, shown", [
    ('"dfoo/dw1"', "hand.dfoo/dw1"), ('"dE_total/dq"', "hand.dE_total/dq"), ("nonsense", "hand.nonsense"),
    ('"h1+"', "hand.h1+"), ('"q9+"', "hand.q9+"), ('"d/dw1"', "hand.d/dw1"),
])
def test_cli_bad_hand_key_exits_2_with_one_line(tmp_path, key, shown):
    spec = tmp_path / "bad_hand.toml"
    spec.write_text(SPEC + f'{key} = "0.1"\n')
    done = run("check", spec)
    assert done.returncode == 2 and done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "bad_hand.toml" in lines[0] and shown in lines[0]
    assert "Traceback" not in done.stderr


def test_untrained_bias_has_no_update(examples, tmp_path):
    spec = tmp_path / "mazur.toml"
    spec.write_text((examples / "mazur_2_2_2.toml").read_text() + '\n[hand]\n"b1+" = "0.35"\n')
    done = run("check", spec)
    assert done.returncode == 2 and "hand.b1+" in done.stderr and "trained parameter" in done.stderr


def _sympy_partials(graph, b, values):
    """∂a/∂b for every a by sympy.diff: each a written in b and the leaves (definitions substituted down to b)."""
    import sympy as sp
    done = {}
    for name, node in graph.nodes.items():
        if name == b or node.definition is None:
            done[name] = node.symbol
        else:
            done[name] = node.definition.xreplace({graph.nodes[s.name].symbol: done[s.name]
                                                   for s in node.definition.free_symbols})
    symbol = graph.nodes[b].symbol
    return {a: float(sp.diff(expr, symbol).xreplace(values)) for a, expr in done.items()}


@pytest.mark.parametrize("example", ["wikidocs_2_2_2", "multiclass_2_2_3", "dual_layer_2_2_1", "seven_2_2"])
def test_every_partial_between_two_quantities_equals_sympy_diff(examples, example):
    from derive.check.quantities import Evaluator, Quantity
    net = derive.load(examples / f"{example}.toml")
    evaluator = Evaluator(net.graph, net.spec.learning_rate)
    values = {net.graph.nodes[k].symbol: v for k, v in net.values().items() if k in net.graph.nodes}
    for b in net.graph.nodes:
        expected = _sympy_partials(net.graph, b, values)
        for a in net.graph.nodes:
            got = float(evaluator.get(Quantity("partial", a, b)))
            assert got == pytest.approx(expected[a], rel=1e-12, abs=1e-15), (a, b)


@pytest.mark.parametrize("bad", [0.5, "nan", "inf", "abc", ""])
def test_bad_hand_values_from_python_are_refused(wikidocs, bad):
    with pytest.raises(derive.SpecError, match="hand.h1"):
        derive.check_hand(wikidocs, {"h1": bad})
