"""Every number the notes print that the symbolic core computes (NOTES-DIGEST.md, files 000-004)."""

import pytest

import derive


def test_file_000_mazur(examples):
    net = derive.load(examples / "mazur_2_2_2.toml")
    # the classic example's values (computed independently in NOTES-DIGEST.md)
    assert net.loss() == pytest.approx(0.298371108760, abs=1e-12)
    assert net.gradients()["w5"] == pytest.approx(0.082167040564, abs=1e-12)
    assert net.updated()["w5"] == pytest.approx(0.358916479718, abs=1e-12)
    assert set(net.gradients()) == {f"w{n}" for n in range(1, 9)}   # biases not trained


def test_file_002_forward_pass(examples):
    net = derive.load(examples / "forward_3_layer.toml")
    assert net.evaluation.outputs == pytest.approx([0.31682708, 0.69627909], abs=5e-9)


def test_file_003_printed_values_to_their_digits(examples):
    v = derive.load(examples / "wikidocs_2_2_2.toml").values()
    printed = {"z1": 0.08, "z2": 0.11, "h1": 0.519, "h2": 0.527, "z3": 0.444, "z4": 0.680, "o1": 0.609,
               "o2": 0.663}
    for name, value in printed.items():
        assert v[name] == pytest.approx(value, abs=1e-3), name


SEVEN = [
    ("seven_1_1", {"y": 7, "E": 4.5, "yE": -3, "wE": -6, "bE": -3, "xE": -9}, {"w1": 3.06, "b1": 1.03}),
    ("seven_2_1", {"y": 19, "E": 32.0, "yE": -8, "w1E": -16, "w2E": -24, "bE": -8},
     {"w1": 3.16, "w2": 4.24, "b1": 1.08}),
    ("seven_2_2", {"y1": 19, "y2": 30, "E": 1832.0, "y1E": -8, "y2E": 60, "w1E": -16, "w2E": -24, "b1E": -8,
                   "w3E": 120, "w4E": 180, "b2E": 60},
     {"w1": 3.16, "w2": 4.24, "b1": 1.08, "w3": 3.8, "w4": 4.2, "b2": 1.4}),
]


@pytest.mark.parametrize("example, values, updated", SEVEN)
def test_file_004_seven_formulas(examples, example, values, updated):
    net = derive.load(examples / f"{example}.toml")
    got = net.values()
    for name, value in values.items():
        assert got[name] == pytest.approx(value, abs=1e-12), name
    for name, value in updated.items():
        assert net.updated()[name] == pytest.approx(value, abs=1e-12), name


def test_file_004_seven_1_1_after_one_step_y_is_7_15(examples):
    net = derive.load(examples / "seven_1_1.toml")
    up = net.updated()
    assert up["w1"] * 2 + up["b1"] == pytest.approx(7.15, abs=1e-12)
