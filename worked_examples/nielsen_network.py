"""Michael Nielsen's network.py (neuralnetworksanddeeplearning.com, chapter 1-2): its backprop, written
from memory in Python 3 (xrange -> range; feedforward, SGD and evaluate left out; compared line by line
with github.com/mnielsen/neural-networks-and-deep-learning src/network.py at commit 00e98900, whose
backprop is the same and gets the same verdicts, correct and with the bugs below), checked as user
code through the matrix form with a four-line adapter:

    derive check-code worked_examples/nielsen_3_3_3_2.toml worked_examples/nielsen_network.py:gradients --form matrices

Nielsen keeps W_l as (n_out, n_in) (the `out_in` orientation, derive's default) and b_l, x, y as
columns. `BUGS` plants five mistakes in the layer loop, each as a student makes it; derive names each
(tests/check/test_nielsen.py): `--form matrices` with `FILE.py:buggy_<name>`.
"""

import numpy as np


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def sigmoid_prime(z):
    return sigmoid(z) * (1 - sigmoid(z))


class Network:
    def __init__(self, sizes):
        self.num_layers = len(sizes)
        self.sizes = sizes
        self.biases = [np.random.randn(y, 1) for y in sizes[1:]]
        self.weights = [np.random.randn(y, x) for x, y in zip(sizes[:-1], sizes[1:])]

    def backprop(self, x, y, bug=None, eta=0.5):
        """(nabla_b, nabla_w) for one sample, layer by layer, as network.py computes them; `bug`
        plants one of BUGS (not in Nielsen's code)."""
        nabla_b = [np.zeros(b.shape) for b in self.biases]
        nabla_w = [np.zeros(w.shape) for w in self.weights]
        activation = x
        activations = [x]
        zs = []
        for b, w in zip(self.biases, self.weights):
            z = np.dot(w, activation) + b
            zs.append(z)
            activation = sigmoid(z)
            activations.append(activation)
        delta = self.cost_derivative(activations[-1], y) * sigmoid_prime(zs[-1])
        nabla_b[-1] = delta
        nabla_w[-1] = np.dot(delta, activations[-2].transpose())
        if bug == "output_updated_first":
            self.weights[-1] = self.weights[-1] - eta * nabla_w[-1]
        for l in range(2, self.num_layers):
            z = zs[-l]
            sp = sigmoid_prime(z)
            if bug == "sigmoid_for_prime":
                sp = sigmoid(z)
            if bug == "prime_at_activation":
                sp = sigmoid_prime(activations[-l])
            if bug == "updated_in_loop":
                self.weights[-l + 1] = self.weights[-l + 1] - eta * nabla_w[-l + 1]
            delta = np.dot(self.weights[-l + 1].transpose(), delta) * sp
            nabla_b[-l] = delta
            nabla_w[-l] = np.dot(delta, activations[-l - 1].transpose())
            if bug == "outer_transposed":
                nabla_w[-l] = np.dot(activations[-l - 1], delta.transpose())
        return (nabla_b, nabla_w)

    def cost_derivative(self, output_activations, y):
        return output_activations - y


# what each planted bug does, and the name derive gives it on a net with two hidden layers
BUGS = {
    "sigmoid_for_prime": "sp = sigmoid(z) in the hidden loop",
    "prime_at_activation": "sp = sigmoid_prime(activations[-l]): σ′ at the activation",
    "outer_transposed": "nabla_w[-l] = activations[-l-1] · deltaᵀ: the outer product the wrong way round",
    "output_updated_first": "the output weights updated before the hidden δ is computed",
    "updated_in_loop": "each layer's weights updated as the loop goes down, before the δ below",
}


# --- the adapter derive calls (not in Nielsen's code) --------------------------------------------
def gradients(weights, biases, x, t, bug=None):
    net = Network.__new__(Network)
    net.num_layers, net.weights, net.biases = len(weights) + 1, weights, [b[:, None] for b in biases]
    nabla_b, nabla_w = net.backprop(x[:, None], t[:, None], bug)
    return nabla_w, nabla_b


def _buggy(bug):
    def planted(weights, biases, x, t):
        return gradients(weights, biases, x, t, bug)
    planted.__name__ = f"buggy_{bug}"
    return planted


globals().update({f"buggy_{bug}": _buggy(bug) for bug in BUGS})
