"""Optional compiled backends for the training loop (each imported only when asked for)."""
