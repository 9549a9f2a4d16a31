"""Checking a derivation four ways: hand values that know their digits, finite differences and the
complex step, and a user's own gradient code (check.user_code).

    derive.check_hand(net)      # every [hand] entry: rounded, truncated, propagated or mismatch
    derive.check_numeric(net)   # every ∂E/∂p against central differences and the complex step

This stage attaches `Network.check_hand` (the numeric stage below does not import upward).
"""

from derive.check.hand import HandCheck, HandReport, check_hand
from derive.check.numerical import NumericReport, NumericRow, check_numeric
from derive.numeric.network import Network

__all__ = ["HandCheck", "HandReport", "check_hand", "NumericReport", "NumericRow", "check_numeric"]

Network.check_hand = check_hand   # net.check_hand(): every [hand] value against the exact one
