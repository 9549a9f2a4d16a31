"""Checking a derivation four ways: hand values that know their digits, finite differences and the
complex step (users' own gradient code is checked elsewhere).

    derive.check_hand(net)      # every [hand] entry: rounded, truncated, propagated or mismatch
    derive.check_numeric(net)   # every ∂E/∂p against central differences and the complex step
"""

from .hand import HandCheck, HandReport, check_hand
from .numerical import NumericReport, NumericRow, check_numeric

__all__ = ["HandCheck", "HandReport", "check_hand", "NumericReport", "NumericRow", "check_numeric"]
