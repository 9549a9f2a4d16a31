"""Stage 4, what people read: text tables for the terminal, LaTeX documents (latex/), plots."""
