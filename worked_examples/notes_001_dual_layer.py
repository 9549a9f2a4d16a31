"""File 001's DualLayer (with the vectorised SingleLayer it inherits from), transcribed as printed
in the notes, checked as user code on a 2-2-1 net with one sample:

    derive check-code worked_examples/dual_layer_2_2_1.toml worked_examples/notes_001_dual_layer.py:gradients

The classes are the notes' code line for line (Korean comments translated). `gradients(params)`
wraps them for derive: it fills the notes' matrices from w1..w6, b1..b3 -- DualLayer keeps W as
(inputs, units), so the weight of x_k → h_j sits at w1[k, j] -- feeds one sample exactly as
`DualLayer.training` does (forpass, activation, err = -(y - a)), and returns what `backprop`
returns, mapped back to derive's names.
"""

import numpy as np


class SingleLayer:
    def __init__(self):
        self.w = None
        self.b = None
        self.losses = []

    def forpass(self, x):
        z = np.dot(x, self.w) + self.b
        return z

    def backprop(self, x, err):
        m = len(x)
        w_grad = np.dot(x.T, err) / m
        b_grad = np.sum(err) / m
        return w_grad, b_grad

    def activation(self, z):
        z = np.clip(z, -100, None)
        a = 1 / (1 + np.exp(-z))
        return a

    def predict(self, x):
        z = self.forpass(x)
        return z > 0

    def score(self, x, y):
        return np.mean(self.predict(x) == y.reshape(-1, 1))

    def fit(self, x, y, epochs = 100, random_state = None):
        y = y.reshape(-1,1)  # as a column vector
        m = len(x)
        self.w = np.ones((x.shape[1], 1))  # initialise the weights
        self.b = 0  # initialise the bias
        for i in range(epochs):
            z = self.forpass(x)
            a = self.activation(z)
            err = -(y - a)
            w_grad, b_grad = self.backprop(x, err)
            self.w -= w_grad
            self.b -= b_grad
            a = np.clip(a, 1e-10, 1-1e-10)
            loss = np.sum(-(y*np.log(a) + (1-y)*np.log(1-a)))
            self.losses.append(loss)


class DualLayer(SingleLayer):
    def __init__(self, units = 10):
        self.units = units  # number of hidden neurons
        self.w1 = None  # input > hidden weights
        self.b1 = None  # input > hidden biases
        self.w2 = None  # hidden > output weights
        self.b2 = None  # hidden > output bias
        self.a1 = None  # the hidden layer's activations
        self.losses = []

    def forpass(self, x):
        z1 = np.dot(x, self.w1) + self.b1
        self.a1 = self.activation(z1)
        z2 = np.dot(self.a1, self.w2) + self.b2
        return z2

    def backprop(self, x, err):
        m = len(x)
        # hidden > output weight and bias gradients
        w2_grad = np.dot(self.a1.T, err) / m
        b2_grad = np.sum(err) / m
        # the error sent to the hidden layer
        err_to_hidden = np.dot(err, self.w2.T) * self.a1 * (1 - self.a1)
        # input > hidden weight and bias gradients
        w1_grad = np.dot(x.T, err_to_hidden) / m
        b1_grad = np.sum(err_to_hidden, axis=0) / m
        return w1_grad, b1_grad, w2_grad, b2_grad

    def init_weights(self, n_features):
        self.w1 = np.ones((n_features, self.units))
        self.b1 = np.zeros(self.units)
        self.w2 = np.ones((self.units, 1))
        self.b2 = 0

    def training(self, x, y, m):
        z = self.forpass(x)
        a = self.activation(z)
        err = -(y - a)
        w1_grad, b1_grad, w2_grad, b2_grad = self.backprop(x, err)
        self.w1 -= w1_grad; self.b1 -= b1_grad
        self.w2 -= w2_grad; self.b2 -= b2_grad
        return a

    def fit(self, x, y, epochs = 100):
        y = y.reshape(-1,1)
        m = len(x)
        self.init_weights(x.shape[1])
        for i in range(epochs):
            a = self.training(x, y, m)
            a = np.clip(a, 1e-10, 1-1e-10)
            loss = np.sum(-(y * np.log(a) + (1 - y) * np.log(1 - a)))
            self.losses.append(loss / m)


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
