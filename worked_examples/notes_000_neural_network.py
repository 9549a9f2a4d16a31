"""File 000's `neuralNetwork` class, transcribed as printed in the notes, checked as user code.

    derive check-code worked_examples/mazur_2_2_2.toml worked_examples/notes_000_neural_network.py:gradients
    derive check-code worked_examples/mazur_2_2_2.toml worked_examples/notes_000_neural_network.py:matrices --form matrices

The class below is the notes' code line for line (lines 1-57; comments translated as printed).
Only the driver at the bottom (lines 59-72: 10,000 training steps) is put under
`if __name__ == "__main__"` so that importing this file does not train. `gradients(params)`
wraps the class for derive: it builds the notes' matrices from w1..w8 (rows = destination
neuron, as the notes' wih and who), sets the shared biases b1, b2, runs one `train` step and
reads each gradient back from the update the class made: ∂E/∂w = (w_before − w_after) / eta.
"""

import numpy as np
import math

# neuralNetwork class definition
class neuralNetwork:
    # weights of bias
    bih = 0.35
    bho = 0.60
    # learning rate
    eta = 0.5

    # initialise the neuralNetwork
    def __init__(self, wih, who):
        # link weights
        self.wih = wih
        self.who = who
        # sigmoid function
        self.sig = lambda x: 1 / (1 + pow(math.e, -x))
        self.sigm = lambda x : pow(math.e, -x) / (1 + pow(math.e, -x)) ** 2

        pass

    # train the neuralNetwork
    def train(self, inputs_list, targets_list):
        # convert inputs list to 2d array
        inputs = np.array(inputs_list, ndmin = 2).T
        targets = np.array(targets_list, ndmin = 2).T
        # calculate signals into hidden layer
        hidden_inputs = np.dot(self.wih, inputs) + self.bih * np.ones((2,1))
        # calculate the signals emerging from hidden layer
        hidden_outputs = self.sig(hidden_inputs)
        # calculate signals into final output layer
        final_inputs = np.dot(self.who, hidden_outputs) + self.bho * np.ones((2, 1))
        # calculate the signals emerging from output layer
        final_outputs = self.sigm(final_inputs)

        # partial derivative of E with respect to weight
        output_errors = final_outputs - targets
        a = np.dot((output_errors * self.sigm(final_inputs)).T, self.who).T
        dEdw_ih = a * self.sigm(hidden_inputs) * inputs.T
        dEdw_ho = output_errors * self.sigm(final_inputs) * hidden_outputs.T

        # update the weights for the links between the hidden and output layers
        self.wih -= self.eta * dEdw_ih
        # update the weights for the links between the input and hidden layers
        self.who -= self.eta * dEdw_ho

        pass

    def query(self,inputs_list):
        inputs = np.array(inputs_list, ndmin=2).T
        hidden_inputs = np.dot(self.wih, inputs)+self.bih*np.ones((2,1))
        hidden_outputs = self.sig(hidden_inputs)
        final_inputs = np.dot(self.who, hidden_outputs)+self.bho*np.ones((2,1))
        final_outputs = self.sigm(final_inputs)

        return final_outputs


# --- the wrapper derive calls (not in the notes) ------------------------------------------------
INPUTS = [0.05, 0.10]
TARGETS = [0.01, 0.99]


def gradients(params, network_class=neuralNetwork):
    """∂E/∂w1..w8 as one `train` step of the class computes them, read back from its update."""
    wih = np.array([[params["w1"], params["w2"]], [params["w3"], params["w4"]]], dtype=float)
    who = np.array([[params["w5"], params["w6"]], [params["w7"], params["w8"]]], dtype=float)
    n = network_class(wih.copy(), who.copy())
    n.bih, n.bho = params["b1"], params["b2"]
    n.train(INPUTS, TARGETS)
    g_ih = (wih - n.wih) / n.eta
    g_ho = (who - n.who) / n.eta
    return {"w1": g_ih[0, 0], "w2": g_ih[0, 1], "w3": g_ih[1, 0], "w4": g_ih[1, 1],
            "w5": g_ho[0, 0], "w6": g_ho[0, 1], "w7": g_ho[1, 0], "w8": g_ho[1, 1]}


def matrices(weights, biases, x, t, network_class=neuralNetwork):
    """The same, in the matrix form (`--form matrices`): the notes' wih, who are (n_out, n_in) already."""
    n = network_class(weights[0].copy(), weights[1].copy())
    n.bih, n.bho = biases[0][0], biases[1][0]            # the shared biases (not trained: none returned)
    n.train(x, t)
    return [(weights[0] - n.wih) / n.eta, (weights[1] - n.who) / n.eta], None


def train_as_the_notes_do(network_class=neuralNetwork, steps=10000):
    """The notes' driver (lines 59-72): 10,000 train steps from their weights, then query."""
    wih = np.array([[0.15,0.20],[0.25,0.30]])
    who = np.array([[0.40,0.45],[0.50,0.55]])
    n = network_class(wih, who)
    i = 0
    while i<steps:
        n.train(INPUTS, TARGETS)
        i += 1
    return n.query(INPUTS)


if __name__ == "__main__":
    print(train_as_the_notes_do().ravel())
