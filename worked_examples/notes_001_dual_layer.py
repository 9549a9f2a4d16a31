"""File 001's DualLayer (transcribed in notes_001.py, with the vectorised SingleLayer it inherits
from), checked as user code on a 2-2-1 net with one sample:

    derive check-code worked_examples/dual_layer_2_2_1.toml worked_examples/notes_001_dual_layer.py:gradients
    derive check-code worked_examples/dual_layer_2_2_1.toml worked_examples/notes_001_dual_layer.py:matrices \
        --form matrices --orientation in_out

The classes are the notes' code line for line (see notes_001.py). `gradients(params)`
wraps them for derive: it fills the notes' matrices from w1..w6, b1..b3 -- DualLayer keeps W as
(inputs, units), so the weight of x_k → h_j sits at w1[k, j] -- feeds one sample exactly as
`DualLayer.training` does (forpass, activation, err = -(y - a)), and returns what `backprop`
returns, mapped back to derive's names.
"""

import numpy as np

from notes_001 import DualLayer   # the notes' class, transcribed once in notes_001.py (beside this file)


# --- the wrapper derive calls (not in the notes) ------------------------------------------------
X = np.array([[0.5, -1.0]])   # one sample, as the spec's inputs
Y = np.array([[1.0]])         # its target, as a column (fit reshapes y the same way)


def gradients(params):
    """The gradients DualLayer.backprop returns for one sample, by derive's names."""
    layer = DualLayer(units=2)
    layer.w1 = np.array([[params["w1"], params["w3"]],      # w1[k, j]: x_k → h_j
                         [params["w2"], params["w4"]]])
    layer.b1 = np.array([params["b1"], params["b2"]])
    layer.w2 = np.array([[params["w5"]], [params["w6"]]])
    layer.b2 = params["b3"]
    a = layer.activation(layer.forpass(X))                  # as DualLayer.training does
    err = -(Y - a)
    w1_grad, b1_grad, w2_grad, b2_grad = layer.backprop(X, err)
    return {"w1": w1_grad[0, 0], "w2": w1_grad[1, 0], "w3": w1_grad[0, 1], "w4": w1_grad[1, 1],
            "w5": w2_grad[0, 0], "w6": w2_grad[1, 0],
            "b1": b1_grad[0], "b2": b1_grad[1], "b3": b2_grad}


def matrices(weights, biases, x, t):
    """The same in the matrix form (`--form matrices --orientation in_out`: DualLayer's W is (inputs, units))."""
    layer = DualLayer(units=len(biases[0]))
    (layer.w1, layer.w2), (layer.b1, layer.b2) = weights, biases
    x, y = np.atleast_2d(x), np.atleast_2d(t)            # one sample, or a batch in rows
    w1_grad, b1_grad, w2_grad, b2_grad = layer.backprop(x, -(y - layer.activation(layer.forpass(x))))
    return [w1_grad, w2_grad], [b1_grad, b2_grad]
