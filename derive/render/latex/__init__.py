"""LaTeX for lecture notes: derivations in the notes' own notation, with numbers, compiling to PDF.

    from derive.render.latex import tex, markdown, steps, sheet_blocks, identity
    tex(net)                        # a standalone document pdflatex compiles
    markdown(net)                   # the same with $$ blocks
    steps(net.derivation("w5"), Numbers(net))   # chain, closed forms, numbers, update
"""

from derive.render.latex.blocks import Equation, Row, aligned, equation_md, equation_tex
from derive.render.latex.document import blocks, markdown, tex, write
from derive.render.latex.identities import IDENTITIES, identity
from derive.render.latex.names import NAME_RULES, NOTATION_STYLE, latex_name
from derive.render.latex.printer import DerivePrinter, latex, number, partial, with_numbers
from derive.render.latex.sheets import sheet, sheet_blocks
from derive.render.latex.steps import STEPS, Numbers, chain, closed, numbers, repr_latex, steps, update

__all__ = ["Equation", "Row", "aligned", "equation_md", "equation_tex", "blocks", "markdown", "tex", "write",
           "IDENTITIES", "identity", "NAME_RULES", "NOTATION_STYLE", "latex_name", "DerivePrinter", "latex",
           "number", "partial", "with_numbers", "sheet", "sheet_blocks", "STEPS", "Numbers", "chain", "closed",
           "numbers", "repr_latex", "steps", "update"]
