"""Stage 2, numbers: the derivation turned into generated code and run.

codegen (straight-line NumPy / Python-float code from the derivation) → network (the derive.Network
facade) → train (the generated loop), sweep (many copies in lock-step), buffers (in-place sweeps),
numba_loop (the compiled backend); data and fit for training on a data set in matrix form.
"""
