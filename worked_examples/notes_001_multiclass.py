"""File 001's MultiClassNetwork, transcribed as printed in the notes, checked as user code on a
2-2-3 sigmoid/softmax net with one sample:

    derive check-code worked_examples/multiclass_2_2_3.toml worked_examples/notes_001_multiclass.py:gradients

The class is the notes' code line for line (Korean comments translated; the progress dots that
`fit` prints are kept). `gradients(params)` fills the notes' matrices from w1..w10, b1..b5 --
the class keeps W as (inputs, units), so the weight of source k → destination j sits at W[k, j] --
feeds one sample exactly as `training` does (forpass, softmax, err = -(y - a)), and returns what
`backprop` returns, mapped back to derive's names.
"""

import numpy as np


class MultiClassNetwork:
    def __init__(self, units = 10):  # as before
        self.units = units
        self.w1 = None
        self.b1 = None
        self.w2 = None
        self.b2 = None
        self.a1 = None
        self.losses = []

    def forpass(self, x):
        z1 = np.dot(x, self.w1) + self.b1
        self.a1 = self.sigmoid(z1)  # activation renamed
        z2 = np.dot(self.a1, self.w2) + self.b2
        return z2

    def backprop(self, x, err):  # as before
        m = len(x)
        w2_grad = np.dot(self.a1.T, err) / m
        b2_grad = np.sum(err) / m
        err_to_hidden = np.dot(err, self.w2.T) * self.a1 * (1 - self.a1)
        w1_grad = np.dot(x.T, err_to_hidden) / m
        b1_grad = np.sum(err_to_hidden, axis=0) / m
        return w1_grad, b1_grad, w2_grad, b2_grad

    def sigmoid(self, z):  # sigmoid
        z = np.clip(z, -100, None)
        a = 1 / (1 + np.exp(-z))
        return a

    def softmax(self, z):  # softmax
        z = np.clip(z, -100, None)
        exp_z = np.exp(z)
        return exp_z / np.sum(exp_z, axis = 1).reshape(-1, 1)

    def init_weights(self, n_features, n_classes):  # takes the number of classes
        np.random.seed(0)
        self.w1 = np.random.normal(0, 1, (n_features, self.units))
        self.b1 = np.zeros(self.units)
        self.w2 = np.random.normal(0, 1, (self.units, n_classes))  # with the number of classes
        self.b2 = np.zeros(n_classes)  # with the number of classes

    def training(self, x, y, m):
        z = self.forpass(x)
        a = self.softmax(z)  # output activation changed
        err = -(y - a)
        w1_grad, b1_grad, w2_grad, b2_grad = self.backprop(x, err)
        self.w1 -= w1_grad
        self.b1 -= b1_grad
        self.w2 -= w2_grad
        self.b2 -= b2_grad
        return a

    def fit(self, x, y, epochs = 100):
        m = len(x)
        self.init_weights(x.shape[1], y.shape[1])  # initialise with the number of classes
        for I in range(epochs):
            print('.', end='')  # a dot per epoch
            a = self.training(x, y, m)
            a = np.clip(a, 1e-10, 1-1e-10)
            loss = np.sum(-y * np.log(a))  # cross-entropy loss
            self.losses.append(loss / m)

    def predict(self, x):
        z = self.forpass(x)
        return np.argmax(z, axis = 1)  # the index of the largest probability

    def score(self, x, y):
        # compare with the index of the right answer
        return np.mean(self.predict(x) == np.argmax(y, axis = 1))


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
