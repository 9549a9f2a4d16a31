"""The pieces a LaTeX or Markdown page is made of, and how each is written in either format.

An `Equation` is a list of aligned rows (left side, right side from its relation on, an optional
note in a third column), so a long sum breaks over lines at its '+' and never runs off the page.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["Row", "Equation", "Heading", "Text", "Figure", "Block", "equation_tex", "equation_md",
           "aligned"]


@dataclass(frozen=True)
class Row:
    lhs: str
    rhs: str            # from the relation on: "= a + b", "+ c"
    note: str = ""      # a remark set apart to the right (e.g. what SymPy proved)

    def tex(self) -> str:
        text = f"{self.lhs} &{self.rhs}"
        return text + (rf" && {self.note}" if self.note else "")


@dataclass(frozen=True)
class Equation:
    rows: list[Row] = field(default_factory=list)

    def __add__(self, other: "Equation") -> "Equation":
        return Equation(self.rows + other.rows)


@dataclass(frozen=True)
class Heading:
    text: str
    level: int = 1


@dataclass(frozen=True)
class Text:
    text: str          # may hold inline math as $...$


@dataclass(frozen=True)
class Figure:
    tikz: str          # a tikzpicture (LaTeX only)
    caption: str = ""
    markdown: str = ""  # what Markdown shows instead (e.g. a table of the weights)


Block = Heading | Text | Equation | Figure


def aligned(eq: Equation) -> str:
    """The rows as an `aligned` environment (for $$ blocks and Jupyter)."""
    body = r" \\ ".join(r.tex() for r in eq.rows)
    return r"\begin{aligned}" + body + r"\end{aligned}"


def equation_tex(eq: Equation) -> str:
    body = " \\\\\n".join(r.tex() for r in eq.rows)
    return "\\begin{align*}\n" + body + "\n\\end{align*}"


def equation_md(eq: Equation) -> str:
    body = " \\\\\n".join(r.tex() for r in eq.rows)
    return "$$\n\\begin{aligned}\n" + body + "\n\\end{aligned}\n$$"
