"""Every input read with limits (issue 14): one clear line naming the key and the limit, never a hang,
an escape or a megabyte echoed back. Reproducers from the fuzz campaign (scripts/fuzz.py)."""

from __future__ import annotations

import pytest

import derive
from derive.core.fitspec import fit_spec_from_dict
from derive.core.limits import MAX_HAND_CHARS, MAX_LAYERS, MAX_WEIGHTS, numeral
from derive.errors import SpecError, clip, shown

BASE = """[network]
layers = [2, 1]
activations = ["sigmoid"]

[values]
inputs = [0.5, 0.1]
targets = [1.0]
weights = [0.3, 0.6]
biases = [0.1]
"""


def load(tmp_path, text):
    path = tmp_path / "case.toml"
    path.write_text(text)
    return derive.load(path)


def error_of(tmp_path, text) -> str:
    with pytest.raises(SpecError) as info:
        net = load(tmp_path, text)
        net.check_hand()
    message = str(info.value)
    assert "\n" not in message and len(message) < 600, message
    return message


@pytest.mark.parametrize("value, says", [
    ("0.1e-2147483648", "exponent of at most"),    # was a hang: the exponent expanded into a fraction
    ("1e-2147483649", "exponent of at most"),
    ("1e999", "exponent of at most"),              # was decimal.InvalidOperation
    ("nan", "finite decimal number"),
    ("inf", "finite decimal number"),
    ("1_0", "finite decimal number"),              # float() accepts it; a printed numeral does not
    ("0x10", "finite decimal number"),
    ("1" * 1_000_000, f"at most {MAX_HAND_CHARS} characters"),   # was a hang
])
def test_hand_values_are_numerals_of_bounded_size(tmp_path, value, says):
    message = error_of(tmp_path, BASE + f'\n[hand]\nE_total = "{value}"\n')
    assert "hand.E_total" in message and says in message


def test_numeral_grammar_accepts_printed_numbers():
    for text in ["0.593", "-1.5e-3", "+2", "15e1", ".5", "3.", " 0.25 ", "1E+400"]:
        assert numeral(text, "hand.x") == text


def test_check_hand_with_a_table_checks_the_grammar_too(tmp_path):
    net = load(tmp_path, BASE)
    with pytest.raises(SpecError, match="exponent"):
        net.check_hand({"E_total": "1e-99999999"})


def test_integer_past_the_float_range(tmp_path):
    # was OverflowError: int too large to convert to float
    message = error_of(tmp_path, BASE.replace("inputs = [0.5, 0.1]", "inputs = [" + "9" * 400 + ", 0.1]"))
    assert "values.inputs[0]" in message and "about 400 digits" in message


def test_integer_past_pythons_digit_limit(tmp_path):
    # was tomllib's ValueError (4300 digits)
    message = error_of(tmp_path, BASE.replace("inputs = [0.5, 0.1]", "inputs = [" + "9" * 5000 + ", 0.1]"))
    assert "4300 digits" in message


def test_huge_layer_sizes_and_depth(tmp_path):
    message = error_of(tmp_path, BASE.replace("layers = [2, 1]", "layers = [2, 1000000000000]"))
    assert "network.layers[1]" in message and "neurons in a layer" in message
    deep = "layers = [" + ", ".join(["1"] * (MAX_LAYERS + 1)) + "]"
    assert f"at most {MAX_LAYERS} layers" in error_of(tmp_path, BASE.replace("layers = [2, 1]", deep))
    wide = "layers = [1000, 1000]"
    assert f"at most {MAX_WEIGHTS} weights" in error_of(tmp_path, BASE.replace("layers = [2, 1]", wide))


def test_fit_spec_layers_checked_before_placeholders():
    # was MemoryError / OverflowError from building placeholder lists of 10**12 zeros
    data = {"network": {"layers": [10, 10**12, 1], "activations": ["sigmoid", "sigmoid"], "loss": "bce"},
            "data": {"dataset": "breast_cancer"}}
    with pytest.raises(SpecError, match="neurons in a layer"):
        fit_spec_from_dict(data)


def test_seeds_within_numpys_range():
    data = {"network": {"layers": [30, 1], "activations": ["sigmoid"], "loss": "bce"},
            "data": {"dataset": "breast_cancer", "test_size": 0.2, "random_state": 2**32}}
    with pytest.raises(SpecError, match="data.random_state: expected a whole number from 0 to 4294967295"):
        fit_spec_from_dict(data)


def test_epochs_limit(tmp_path):
    message = error_of(tmp_path, BASE + "\n[train]\nepochs = 1000000000000\n")
    assert "train.epochs" in message and "at most" in message


def test_long_keys_and_values_are_clipped_and_on_one_line(tmp_path):
    key = "k\n" * 100_000
    text = BASE + '\n[hand]\n"' + key.replace("\n", "\\n") + '" = "0.1"\n'
    message = error_of(tmp_path, text)
    assert len(message) < 400 and "\\n" in message


def test_title_length(tmp_path):
    assert "title" in error_of(tmp_path, f'title = "{"x" * 100_000}"\n' + BASE)


def test_shown_and_clip():
    assert shown(10**5000) == "an integer of about 5000 digits"
    assert len(shown("y" * 10**6)) <= 80
    assert "\n" not in clip("a\nb") and clip("a\nb") == "a\\nb"
    assert shown([1] * 10_000).startswith("list of 10000 items")


def test_scalar_derivation_size_is_checked_before_the_graph():
    # [100, 100] took 10–19 s per command; a values spec past 2,000 weights is one line naming the way out
    from derive.core.limits import MAX_SCALAR_WEIGHTS
    n = 50
    with pytest.raises(SpecError) as info:
        derive.network([n, n], ["sigmoid"], inputs=[0.1] * n, targets=[0.5] * n, weights=[0.0] * n * n,
                       biases=[0.0] * n)
    message = str(info.value)
    assert f"at most {MAX_SCALAR_WEIGHTS} weights for the weight-by-weight derivation" in message
    assert "2500 weights" in message
