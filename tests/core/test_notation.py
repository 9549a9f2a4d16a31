"""Notations as data: the nielsen preset, a notation written in a spec, and what a bad template is told."""

from pathlib import Path

import pytest

import derive
from derive.cli import main
from derive.core.notation import NOTATIONS, PRESETS, notation_from_table
from derive.core.spec import spec_from_dict
from derive.errors import SpecError
from reference import gradients as reference_gradients

EXAMPLES = Path(__file__).resolve().parents[2] / "worked_examples"

FILE_000 = dict(inputs=[0.05, 0.10], targets=[0.01, 0.99], weights=[0.15, 0.20, 0.25, 0.30, 0.40, 0.45, 0.50, 0.55],
                biases=[0.35, 0.60], learning_rate=0.5)


def spec(table=None, **network):
    data = {"network": {"layers": [2, 2, 2], "activations": ["sigmoid", "sigmoid"], "bias": "shared", **network},
            "values": dict(FILE_000)}
    if table is not None:
        data["notation"] = table
    return spec_from_dict(data)


def test_every_preset_is_a_table():
    assert set(PRESETS) == set(NOTATIONS) >= {"net-out", "z-h-o", "seven", "nielsen"}


def test_nielsen_names_layer_one_the_input():
    g = derive.Network(spec(notation="nielsen")).graph
    assert [n.name for n in g.inputs] == ["a1_1", "a1_2"]
    assert [n.name for n in g.layers[0].nets] == ["z2_1", "z2_2"]
    assert [n.name for n in g.outputs] == ["a3_1", "a3_2"]
    assert [n.name for n in g.targets] == ["y1", "y2"] and g.total.name == "C" and g.errors == []
    assert [p.name for p in g.params] == ["w2_1_1", "w2_1_2", "w2_2_1", "w2_2_2",
                                          "w3_1_1", "w3_1_2", "w3_2_1", "w3_2_2", "b2_1", "b3_1"]
    assert g.delta_name("z3_1") == "delta3_1" and g.delta_name("a2_1") == "delta_a2_1"


def test_nielsen_numbers_match_an_independent_computation():
    net = derive.Network(spec(notation="nielsen"))
    E, outs, gw, gb = reference_gradients([2, 2, 2], ["sigmoid", "sigmoid"], "half_sse", FILE_000["weights"],
                                          FILE_000["biases"], "shared", FILE_000["inputs"], FILE_000["targets"])
    values = net.values()
    assert values["C"] == pytest.approx(E, abs=1e-12)
    assert [values["a3_1"], values["a3_2"]] == pytest.approx(outs, abs=1e-12)
    grads = net.gradients()
    assert [grads[f"w{i}"] for i in range(1, 9)] == pytest.approx(gw, abs=1e-12)
    # δ^3_1 = ∂C/∂z^3_1 and ∂C/∂w^3_11 = δ^3_1 · a^2_1 (Nielsen's BP4)
    assert values["delta3_1"] * values["a2_1"] == pytest.approx(gw[4], abs=1e-12)


def test_nielsen_hand_keys():
    s = spec_from_dict({"network": {"layers": [2, 2, 2], "activations": ["sigmoid", "sigmoid"], "bias": "shared",
                                    "notation": "nielsen"}, "values": dict(FILE_000),
                        "hand": {"a2_1": "0.593269992", "C": "0.298371109", "dC/dw5": "0.082167041",
                                 "dC/da2_1": "0.036350306", "delta3_1": "0.138498562", "w3_1_1+": "0.358916480"}})
    report = derive.Network(s).check_hand()
    assert [c.verdict for c in report.checks] == ["rounded"] * 6


def test_a_spec_notation_keeps_the_base_names_for_roles_left_out():
    g = derive.Network(spec({"activation": "act_{label}"})).graph
    assert [n.name for n in g.layers[0].outs] == ["act_h1", "act_h2"]
    assert [n.name for n in g.layers[0].nets] == ["net_h1", "net_h2"] and g.total.name == "E_total"


def test_output_role_names_the_output_layer_only():
    g = derive.Network(spec({"activation": "h{j}", "output": "yhat{j}", "pre_activation": "z{l}_{j}"})).graph
    assert [n.name for n in g.layers[0].outs] == ["h1", "h2"]
    assert [n.name for n in g.outputs] == ["yhat1", "yhat2"]


@pytest.mark.parametrize("table, key, expected", [
    ({"activation": "a{l.__class__}"}, "notation.activation", "only the placeholders"),
    ({"activation": "a{0}"}, "notation.activation", "only the placeholders"),
    ({"activation": "a{j!r}"}, "notation.activation", "only the placeholders"),
    ({"weight": "w{k:>3}"}, "notation.weight", "only the placeholders"),
    ({"activation": "a{"}, "notation.activation", "balanced braces"),
    ({"activation": "a-{j}"}, "notation.activation", "letters, digits and _"),
    ({"activation": "a{j}{j}"}, "notation.activation", "at most once"),
    ({"error": "E{j}"}, "notation.error", "only the placeholders none"),
    ({"activation": 3}, "notation.activation", "a string template"),
    ({"colour": "red"}, "notation.colour", "known keys"),
    ({"latex": {"colour": "x"}}, "notation.latex.colour", "one of the roles"),
    ({"first_layer": -1}, "notation.first_layer", "a whole number"),
])
def test_bad_templates_are_named(table, key, expected):
    with pytest.raises(SpecError) as err:
        spec(table)
    assert err.value.key == key and expected in str(err.value)


def test_two_quantities_sharing_a_name_is_a_clear_error():
    with pytest.raises(SpecError) as err:
        derive.Network(spec({"pre_activation": "q{l}_{j}", "activation": "q{l}_{j}"}))
    assert err.value.key == "notation" and "'q1_1' is used twice" in str(err.value)


def test_nothing_in_a_template_is_evaluated():
    table = {"activation": "{label}", "input": "i{j}"}
    n = notation_from_table(table)
    assert n.out == "{label}" and n.input == "i{j}"
    with pytest.raises(SpecError):
        notation_from_table({"weight": "w{n.__init__.__globals__}"})


def test_worked_examples_in_other_notations(examples):
    for name in ("nielsen_2_2_2.toml", "bishop_2_2_2.toml"):
        report = derive.load(examples / name).check_hand()
        assert report.checks and all(c.verdict == "rounded" for c in report.checks), name


def test_a_delta_template_that_names_a_quantity_is_a_clear_error():
    with pytest.raises(SpecError) as err:
        derive.Network(spec({"pre_activation": "z{l}_{j}", "activation": "a{l}_{j}", "delta": "a{l}_{j}"}))
    assert err.value.key == "notation" and "'a1_1' is used twice" in str(err.value)


def test_a_notation_table_from_python():
    net = derive.network([2, 1], ["sigmoid"], inputs=[1, 2], targets=[0.5], weights=[0.1, 0.2], biases=[0.3],
                         notation={"activation": "yhat{j}", "error": "L", "output_error": ""})
    assert net.graph.outputs[0].name == "yhat1" and net.graph.total.name == "L"


def test_a_latex_template_may_use_only_its_name_templates_placeholders():
    """Campaign find (seed 5, cli0059): a [notation] table without `target` keeps the base's name
    template target_{label}, while its latex.target is "t_{j}": no j to write, a KeyError in notes."""
    table = {"target": "t{j}", "latex": {"target": "t_{j}"}}
    assert notation_from_table(table).latex == (("target", "t_{j}"),)
    with pytest.raises(SpecError) as err:
        notation_from_table({"latex": {"target": "t_{j}"}})
    assert err.value.key == "notation.latex.target" and "target_{label}" in str(err.value)


def test_the_campaign_spec_is_one_line_not_a_crash(tmp_path, capsys):
    spec = tmp_path / "bishop_without_target.toml"
    text = (EXAMPLES / "bishop_2_2_2.toml").read_text()
    lines = [ln for ln in text.splitlines() if ln != 'target = "t{j}"']   # the name template only
    spec.write_text("\n".join(lines) + "\n")
    assert 'target = "t_{j}"' in spec.read_text() and len(lines) == len(text.splitlines()) - 1
    assert main(["notes", str(spec), "-o", str(tmp_path / "out.tex")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "notation.latex.target" in err
