"""Spec validation: every bad input is one SpecError naming the key and what was expected."""

import copy
import math

import pytest

import derive
from derive.core.spec import load_spec, spec_from_dict

GOOD = {
    "title": "t",
    "network": {"layers": [2, 2], "activations": ["sigmoid"], "loss": "half_sse", "bias": "per_neuron",
                "notation": "net-out"},
    "values": {"inputs": [0.1, 0.2], "targets": [0.3, 0.4], "weights": [1, 2, 3, 4], "biases": [0.5, 0.6],
               "learning_rate": 0.5},
}


def with_change(path, value):
    data = copy.deepcopy(GOOD)
    *parents, last = path.split(".")
    table = data
    for key in parents:
        table = table[key]
    if value is DELETE:
        del table[last]
    else:
        table[last] = value
    return data


DELETE = object()

BAD = [
    ("network.layers", [2], "at least two"),
    ("network.layers", [2, 0], r"network.layers\[1\]: expected a whole number >= 1"),
    ("network.layers", "2-2", "a list of whole numbers"),
    ("network.activations", ["sigmoid", "sigmoid"], "1 names"),
    ("network.activations", ["sigmod"], r"did you mean 'sigmoid'"),
    ("network.loss", "sse", "one of half_sse, mse, bce, cross_entropy"),
    ("network.bias", "both", "per_neuron, shared, none"),
    ("network.notation", "greek", "net-out, z-h-o, seven"),
    ("network.train_biases", "yes", "true or false"),
    ("network.error_letter", "G", "one of E, F"),
    ("network.colour", "red", "known keys"),
    ("values.inputs", [0.1], "2 numbers"),
    ("values.targets", [0.1, "x"], r"values.targets\[1\]: expected a number"),
    ("values.weights", [1, 2, 3, math.inf], "a finite number"),
    ("values.weights", [1, 2, 3, math.nan], "a finite number"),
    ("values.biases", [1], "2 numbers"),
    ("values.learning_rate", True, "a number"),
    ("values.weights", DELETE, "values.weights: expected this key to be present"),
    ("network", DELETE, "network: expected this key to be present"),
    ("hand", {"w1": 0.5}, "quoted"),
    ("hand", {"w1": "abc"}, "decimal number"),
    ("train", {"epochs": 0}, "whole number >= 1"),
    ("train", {"dtype": "float16"}, "float64, float32"),
]


@pytest.mark.parametrize("path, value, message", BAD)
def test_bad_specs_raise_one_spec_error_naming_the_key(path, value, message):
    with pytest.raises(derive.SpecError, match=message):
        spec_from_dict(with_change(path, value))


def test_softmax_only_on_the_output_layer():
    data = with_change("network.layers", [2, 2, 2])
    data["network"]["activations"] = ["softmax", "sigmoid"]
    data["values"]["weights"] = [1] * 8
    data["values"]["biases"] = [1] * 4
    with pytest.raises(derive.SpecError, match="softmax only on the output layer"):
        spec_from_dict(data)


def test_biases_given_where_none_are_wanted():
    data = with_change("network.bias", "none")
    with pytest.raises(derive.SpecError, match='network.bias = "none"'):
        spec_from_dict(data)


def test_file_errors_name_the_file(tmp_path):
    missing = tmp_path / "missing.toml"
    with pytest.raises(derive.SpecError, match="missing.toml"):
        load_spec(missing)
    broken = tmp_path / "broken.toml"
    broken.write_text("[network\nlayers = ")
    with pytest.raises(derive.SpecError, match=r"broken.toml: \(toml\): expected valid TOML"):
        load_spec(broken)
    wrong = tmp_path / "wrong.toml"
    wrong.write_text('[network]\nlayers = [2, 2]\nactivations = ["relu"]\n[values]\ninputs = [1]\n')
    with pytest.raises(derive.SpecError, match=r"wrong.toml: values.inputs: expected 2 numbers"):
        load_spec(wrong)


def test_good_spec_keeps_what_was_written():
    spec = spec_from_dict(GOOD)
    assert spec.layers == (2, 2) and spec.weights == (1.0, 2.0, 3.0, 4.0) and spec.learning_rate == 0.5


def test_python_builder_validates_like_a_file():
    with pytest.raises(derive.SpecError, match="values.weights: expected 4 numbers"):
        derive.network([2, 2], ["sigmoid"], inputs=[1, 2], targets=[0, 1], weights=[1, 2, 3])
