"""File 000's `neuralNetwork` class with its one bug fixed: the output layer applies σ, not σ′.

    derive check-code worked_examples/mazur_2_2_2.toml worked_examples/notes_000_neural_network_fixed.py:gradients

derive finds the notes' class (notes_000_neural_network.py) computing `final_outputs =
self.sigm(final_inputs)` -- σ′(net) where σ(net) belongs -- in `train` and in `query`. This
subclass changes exactly those two lines to `self.sig(final_inputs)`; everything else,
including the backward pass, is the notes' code unchanged.
"""

import numpy as np

from notes_000_neural_network import INPUTS, TARGETS, neuralNetwork
from notes_000_neural_network import gradients as _gradients
from notes_000_neural_network import matrices as _matrices
from notes_000_neural_network import train_as_the_notes_do as _train


class fixedNeuralNetwork(neuralNetwork):
    def train(self, inputs_list, targets_list):
        inputs = np.array(inputs_list, ndmin = 2).T
        targets = np.array(targets_list, ndmin = 2).T
        hidden_inputs = np.dot(self.wih, inputs) + self.bih * np.ones((2,1))
        hidden_outputs = self.sig(hidden_inputs)
        final_inputs = np.dot(self.who, hidden_outputs) + self.bho * np.ones((2, 1))
        final_outputs = self.sig(final_inputs)          # the fix: σ, not σ′ (self.sigm)

        output_errors = final_outputs - targets
        a = np.dot((output_errors * self.sigm(final_inputs)).T, self.who).T
        dEdw_ih = a * self.sigm(hidden_inputs) * inputs.T
        dEdw_ho = output_errors * self.sigm(final_inputs) * hidden_outputs.T

        self.wih -= self.eta * dEdw_ih
        self.who -= self.eta * dEdw_ho

    def query(self, inputs_list):
        inputs = np.array(inputs_list, ndmin=2).T
        hidden_inputs = np.dot(self.wih, inputs)+self.bih*np.ones((2,1))
        hidden_outputs = self.sig(hidden_inputs)
        final_inputs = np.dot(self.who, hidden_outputs)+self.bho*np.ones((2,1))
        return self.sig(final_inputs)                   # the fix: σ, not σ′ (self.sigm)


def gradients(params):
    return _gradients(params, fixedNeuralNetwork)


def matrices(weights, biases, x, t):
    return _matrices(weights, biases, x, t, fixedNeuralNetwork)


if __name__ == "__main__":
    print(_train(fixedNeuralNetwork).ravel())
