"""derive: check backpropagation by deriving it.

    import derive
    net = derive.load("worked_examples/mazur_2_2_2.toml")
    net.gradients()            # {"w1": …} at the spec's values
    net.derivation("w1").paths # the chain rule as the notes write it
"""

from derive.numeric.network import Network, load, network
from derive.errors import DeriveError, NotSupported, SpecError, UserCodeError
from derive.check import check_hand, check_numeric
from derive.numeric.fit import run_fit
from derive.core.fitspec import load_fit_spec
from derive.core.proof import prove_equal
from derive.check.user_code.compare import check_gradients
from derive import layout

__all__ = ["Network", "load", "network", "DeriveError", "SpecError", "NotSupported", "UserCodeError",
           "check_hand", "check_numeric",
           "prove_equal", "check_gradients", "load_fit_spec", "run_fit", "layout"]
__version__ = "0.1.0"
