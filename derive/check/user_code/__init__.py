"""A user's own gradient code: load it (load), compare it with the derivation (compare), and name the
known mistake that explains a disagreement (mistakes, built on mistaken: what buggy backprop computes)."""
