"""derive.layout: parameters as code keeps them, one weight matrix and one bias vector per layer.

    weights, biases = derive.layout.to_matrices(net, params, "out_in")   # (n_out, n_in) per layer
    grads = derive.layout.from_matrices(net, dweights, dbiases, "out_in") # {w1: …, b1: …}

(defined in derive.numeric.layout; re-exported here as the public name)
"""

from derive.numeric.layout import ORIENTATIONS, bias_names, from_matrices, positions, to_matrices, weight_names

__all__ = ["ORIENTATIONS", "to_matrices", "from_matrices", "positions", "weight_names", "bias_names"]
