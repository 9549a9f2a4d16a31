"""Stage 1, the symbolic core (SymPy only, no NumPy): specs in, derivations out.

Read in order: primitives (one entry per activation and loss) → notation → reading, spec, fitspec
(TOML → validated specs) → graph (the net as named SymPy nodes with local derivatives) → derivation
(δ terms once, paths on request) → proof; matrix and matrix_proof for file 001's matrix form.
"""
