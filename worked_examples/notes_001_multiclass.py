"""File 001's MultiClassNetwork (transcribed in notes_001.py), checked as user code on a
2-2-3 sigmoid/softmax net with one sample:

    derive check-code worked_examples/multiclass_2_2_3.toml worked_examples/notes_001_multiclass.py:gradients
    derive check-code worked_examples/multiclass_2_2_3.toml worked_examples/notes_001_multiclass.py:matrices \
        --form matrices --orientation in_out
    derive check-code worked_examples/file001_digits_multiclass.toml worked_examples/notes_001_multiclass.py:matrices \
        --form matrices --orientation in_out          # the 64-100-10 net on 1,437 digits

The class is the notes' code line for line (see notes_001.py). `gradients(params)` fills the notes' matrices from w1..w10, b1..b5 --
the class keeps W as (inputs, units), so the weight of source k → destination j sits at W[k, j] --
feeds one sample exactly as `training` does (forpass, softmax, err = -(y - a)), and returns what
`backprop` returns, mapped back to derive's names.
"""

import numpy as np

from notes_001 import MultiClassNetwork   # the notes' class, transcribed once in notes_001.py (beside this file)


# --- the wrapper derive calls (not in the notes) ------------------------------------------------
X = np.array([[0.5, -1.0]])        # one sample, as the spec's inputs
Y = np.array([[0.0, 1.0, 0.0]])    # its one-hot target


def gradients(params, network_class=MultiClassNetwork):
    """The gradients MultiClassNetwork.backprop returns for one sample, by derive's names."""
    net = network_class(units=2)
    net.w1 = np.array([[params["w1"], params["w3"]],          # w1[k, j]: x_k → h_j
                       [params["w2"], params["w4"]]])
    net.b1 = np.array([params["b1"], params["b2"]])
    net.w2 = np.array([[params["w5"], params["w7"], params["w9"]],    # w2[k, j]: h_k → o_j
                       [params["w6"], params["w8"], params["w10"]]])
    net.b2 = np.array([params["b3"], params["b4"], params["b5"]])
    a = net.softmax(net.forpass(X))                           # as training does
    err = -(Y - a)
    w1_grad, b1_grad, w2_grad, b2_grad = net.backprop(X, err)
    b2 = np.broadcast_to(b2_grad, (3,))                       # np.sum(err) / m is one number
    return {"w1": w1_grad[0, 0], "w2": w1_grad[1, 0], "w3": w1_grad[0, 1], "w4": w1_grad[1, 1],
            "w5": w2_grad[0, 0], "w6": w2_grad[1, 0], "w7": w2_grad[0, 1], "w8": w2_grad[1, 1],
            "w9": w2_grad[0, 2], "w10": w2_grad[1, 2],
            "b1": b1_grad[0], "b2": b1_grad[1], "b3": b2[0], "b4": b2[1], "b5": b2[2]}


def matrices(weights, biases, x, t, network_class=MultiClassNetwork):
    """The same in the matrix form (`--form matrices --orientation in_out`: the class's W is (inputs, units))."""
    net = network_class(units=len(biases[0]))
    (net.w1, net.w2), (net.b1, net.b2) = weights, biases
    x, y = np.atleast_2d(x), np.atleast_2d(t)            # one sample, or a batch in rows
    w1_grad, b1_grad, w2_grad, b2_grad = net.backprop(x, -(y - net.softmax(net.forpass(x))))
    return [w1_grad, w2_grad], [b1_grad, b2_grad]       # b2_grad is one number: derive broadcasts it


def fixed_matrices(weights, biases, x, t):
    return matrices(weights, biases, x, t, FixedMultiClassNetwork)


class FixedMultiClassNetwork(MultiClassNetwork):
    """The notes' class with its output-bias gradient summed per class (axis=0), as b1's already is."""

    def backprop(self, x, err):
        w1_grad, b1_grad, w2_grad, _ = super().backprop(x, err)
        return w1_grad, b1_grad, w2_grad, np.sum(err, axis=0) / len(x)


def compare_on_digits(epochs=100, units=100):
    """Does the b2 bug matter for training? The notes' class and the fixed one on scikit-learn's digits
    (in place of Fashion-MNIST), scaled to [0, 1] as the notes scale pixels, same split and seed."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split
    digits = load_digits()
    x = digits.data / 16
    y = np.eye(10)[digits.target]
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.2, random_state=0)
    rows = []
    for cls in (MultiClassNetwork, FixedMultiClassNetwork):
        net = cls(units=units)
        net.fit(x_train, y_train, epochs=epochs)
        rows.append((cls.__name__, net.score(x_test, y_test), net.losses[-1], np.abs(net.b2).max()))
    print()
    for name, accuracy, loss, b2 in rows:
        print(f"{name:24} test accuracy {accuracy:.4f}  last mean loss {loss:.6f}  max |b2| {b2:.3g}")


if __name__ == "__main__":
    compare_on_digits()
