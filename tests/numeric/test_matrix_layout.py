"""derive.layout: canonical names <-> one weight matrix and one bias vector per layer.

Expected matrices are written from the notes' numbering (file 000: w1 = x1→h1, w2 = x2→h1, …),
never from the code under test.
"""

from pathlib import Path

import numpy as np
import pytest

import derive
from derive.errors import SpecError, UserCodeError
from derive.layout import from_matrices, positions, to_matrices

EXAMPLES = Path(__file__).resolve().parents[2] / "worked_examples"
MAZUR = derive.load(EXAMPLES / "mazur_2_2_2.toml")
MULTI = derive.load(EXAMPLES / "multiclass_2_2_3.toml")


def test_mazur_out_in_is_the_notes_numbering_and_the_shared_bias_is_repeated():
    weights, biases = to_matrices(MAZUR)
    np.testing.assert_array_equal(weights[0], [[0.15, 0.20], [0.25, 0.30]])
    np.testing.assert_array_equal(weights[1], [[0.40, 0.45], [0.50, 0.55]])
    np.testing.assert_array_equal(biases[0], [0.35, 0.35])
    np.testing.assert_array_equal(biases[1], [0.60, 0.60])
    assert all(w.dtype == np.float64 for w in weights)


def test_in_out_is_the_transpose_and_positions_say_where():
    weights, _ = to_matrices(MULTI, orientation="in_out")
    # multiclass_2_2_3: w5..w10 are h→o by output: o1 gets w5 (h1), w6 (h2); o2 w7, w8; o3 w9, w10
    np.testing.assert_array_equal(weights[1], [[0.5, 0.7, -0.3], [-0.6, 0.2, 0.8]])
    assert positions(MULTI, "in_out")["w6"] == (2, 1, 0)
    assert positions(MULTI, "out_in")["w6"] == (2, 0, 1)
    assert positions(MULTI)["b4"] == (2, 1)


def test_from_matrices_round_trip_and_unit_axes():
    weights, biases = to_matrices(MULTI, orientation="in_out")
    back = from_matrices(MULTI, weights, [b[None, :] for b in biases], "in_out")   # (1, n) rows accepted
    assert back == MULTI.param_values()


def test_shared_bias_per_neuron_terms_are_summed_and_none_is_fine_when_not_trained():
    weights, _ = to_matrices(MAZUR)
    grads = from_matrices(MAZUR, weights, [np.array([1.0, 2.0]), 0.5])
    assert grads["b1"] == 3.0 and grads["b2"] == 0.5
    assert "b1" not in from_matrices(MAZUR, weights, None)


def test_a_wrong_shape_names_the_layer_and_both_shapes():
    weights, biases = to_matrices(MULTI)
    with pytest.raises(UserCodeError, match=r"dweights\[1\] \(layer 2, out_in\): expected shape \(3, 2\), "
                                            r"got shape \(2, 3\)"):
        from_matrices(MULTI, [weights[0], weights[1].T], biases)
    with pytest.raises(UserCodeError, match="expected 2 arrays"):
        from_matrices(MULTI, weights[:1], biases)
    with pytest.raises(UserCodeError, match="not summed over the batch"):
        from_matrices(MULTI, weights, [biases[0], np.ones((5, 3))])
    with pytest.raises(UserCodeError, match="since the spec trains its biases"):
        from_matrices(MULTI, weights, None)
    with pytest.raises(SpecError, match="orientation"):
        to_matrices(MULTI, orientation="rows")


def test_one_number_for_a_layer_of_biases_is_broadcast():
    weights, biases = to_matrices(MULTI)
    grads = from_matrices(MULTI, weights, [biases[0], 0.25])          # np.sum(err) / m: one number
    assert [grads[f"b{i}"] for i in (3, 4, 5)] == [0.25, 0.25, 0.25]
