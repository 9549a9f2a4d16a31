"""The pieces a LaTeX or Markdown page is made of, and how each is written in either format.

An `Equation` is a list of aligned rows (left side, right side from its relation on, an optional
note in a third column), so a long sum breaks over lines at its '+' and never runs off the page.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["wrapped", "Row", "Equation", "Heading", "Text", "Figure", "Table", "Block", "equation_tex",
           "equation_md", "aligned", "table_tex", "table_md"]


@dataclass(frozen=True)
class Row:
    lhs: str
    rhs: str            # from the relation on: "= a + b", "+ c"
    note: str = ""      # a remark set apart to the right (e.g. what SymPy proved)

    def tex(self, tag: bool = False) -> str:
        """The row for an aligned block; with `tag` the note goes to the right margin (\\tag*), where
        amsmath moves it below the row when the row leaves it no room."""
        text = f"{self.lhs} &{self.rhs}"
        if not self.note:
            return text
        return text + (rf" \tag*{{${self.note}$}}" if tag else rf" && {self.note}")


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


@dataclass(frozen=True)
class Table:
    """A table of math cells (each cell LaTeX math, set in $…$): the rest of a kind of weight, in brief."""

    header: list[str]   # text (may hold $…$)
    rows: list[list[str]]
    caption: str = ""


Block = Heading | Text | Equation | Figure | Table


def table_tex(t: Table) -> str:
    """A longtable (it breaks across pages), cells in math mode."""
    cols = "l" * len(t.header)
    lines = [rf"\begin{{longtable}}{{{cols}}}", " & ".join(t.header) + r" \\ \hline\endhead"]
    lines += [" & ".join(f"${c}$" for c in row) + r" \\" for row in t.rows]
    lines.append(r"\end{longtable}")
    return (t.caption + "\n" if t.caption else "") + "\n".join(lines)


def table_md(t: Table) -> str:
    """A pipe table, cells as inline $…$ math."""
    lines = ["| " + " | ".join(t.header) + " |", "|" + "---|" * len(t.header)]
    lines += ["| " + " | ".join(f"${c}$" for c in row) + " |" for row in t.rows]
    return (t.caption + "\n\n" if t.caption else "") + "\n".join(lines)


def wrapped(lhs: str, terms: list[str], per_line: int, first: str = "= ", tail: str = "") -> list[Row]:
    """lhs = t1 + t2 + … with at most `per_line` terms a row, so a wide layer's sum stays on the page."""
    rows = []
    for start in range(0, len(terms), per_line):
        text = " + ".join(terms[start:start + per_line])
        rows.append(Row(lhs if not rows else "", (first if not rows else r"\quad + ") + text))
    if tail:
        rows[-1] = Row(rows[-1].lhs, rows[-1].rhs + tail)
    return rows


def aligned(eq: Equation) -> str:
    """The rows as an `aligned` environment (for $$ blocks and Jupyter)."""
    body = r" \\ ".join(r.tex() for r in eq.rows)
    return r"\begin{aligned}" + body + r"\end{aligned}"


def equation_tex(eq: Equation) -> str:
    body = " \\\\\n".join(r.tex(tag=True) for r in eq.rows)
    return "\\begin{align*}\n" + body + "\n\\end{align*}"


def equation_md(eq: Equation) -> str:
    body = " \\\\\n".join(r.tex() for r in eq.rows)
    return "$$\n\\begin{aligned}\n" + body + "\n\\end{aligned}\n$$"
