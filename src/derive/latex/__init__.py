"""LaTeX for lecture notes: derivations in the notes' own notation, with numbers, compiling to PDF.

    from derive.latex import tex, markdown, steps, sheet_blocks, identity
    tex(net)                        # a standalone document pdflatex compiles
    markdown(net)                   # the same with $$ blocks
    steps(net.derivation("w5"), Numbers(net))   # chain, closed forms, numbers, update
"""

from .blocks import Equation, Row, aligned, equation_md, equation_tex
from .document import blocks, markdown, tex, write
from .identities import IDENTITIES, identity
from .names import NAME_RULES, NOTATION_STYLE, latex_name
from .printer import DerivePrinter, latex, number, partial, with_numbers
from .sheets import sheet, sheet_blocks
from .steps import STEPS, Numbers, chain, closed, numbers, repr_latex, steps, update

__all__ = ["Equation", "Row", "aligned", "equation_md", "equation_tex", "blocks", "markdown", "tex", "write",
           "IDENTITIES", "identity", "NAME_RULES", "NOTATION_STYLE", "latex_name", "DerivePrinter", "latex",
           "number", "partial", "with_numbers", "sheet", "sheet_blocks", "STEPS", "Numbers", "chain", "closed",
           "numbers", "repr_latex", "steps", "update"]
