"""A spec's title is user text: LaTeX prints it literally (no \\{} from a double escape, no command runs),
Markdown shows it as text (no HTML tag, no script, no math) on one heading line (issue 14)."""

import shutil
import subprocess

import pytest

from derive import load
from derive.cli import main
from derive.render.latex import markdown, tex
from derive.render.latex.document import _escape, md_escape
from pdflatex import needs_pdflatex

NASTY = r"a \input{/etc/passwd} $\nosuchmacro$ 50% #1 _x_ ~^ & <b>|</b>"


def _spec(examples, tmp_path, title):
    """seven_1_1 with another title (as a TOML basic string)."""
    quoted = title.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    text = (examples / "seven_1_1.toml").read_text()
    spec = tmp_path / "t.toml"
    spec.write_text(text.replace('title = "1-1 linear neuron, file 004 (7 formulas)"', f'title = "{quoted}"'))
    return spec


def _net(examples, tmp_path, title):
    net = load(_spec(examples, tmp_path, title))
    assert net.spec.title == title
    return net


def test_every_latex_special_is_escaped_once():
    assert _escape("\\") == r"\textbackslash{}"               # not \textbackslash\{\} (the old double escape)
    assert _escape("{x}") == r"\{x\}"
    assert _escape("a_b$c%d#e&f~g^h") == r"a\_b\$c\%d\#e\&f\textasciitilde{}g\textasciicircum{}h"
    assert _escape("line\nbreak") == "line break"


def test_the_title_in_the_document_has_no_command_of_its_own(examples, tmp_path):
    doc = tex(_net(examples, tmp_path, NASTY))
    title = next(l for l in doc.splitlines() if l.startswith(r"\title{"))
    assert r"\input" not in title and r"\nosuchmacro" not in title and r"\{}" not in title


@needs_pdflatex
@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="pdftotext (poppler-utils) not installed")
def test_the_pdf_shows_the_title_as_written(examples, tmp_path):
    spec = _spec(examples, tmp_path, NASTY)
    assert main(["notes", str(spec), "-o", str(tmp_path / "n.tex"), "--pdf"]) == 0
    shown = subprocess.run(["pdftotext", "-l", "1", str(tmp_path / "n.pdf"), "-"], capture_output=True,
                           text=True).stdout
    first = " ".join(shown.split("\n\n")[0].split())
    assert first.startswith(NASTY), first
    assert r"\{}" not in shown


def test_markdown_title_is_text_not_html(examples, tmp_path):
    doc = markdown(_net(examples, tmp_path, "<script>alert(1)</script> *bold* [link](x) $x$\nsecond line"))
    heading = doc.splitlines()[0]
    assert heading.startswith("# ") and "<script>" not in doc.split("\n\n")[0]
    assert "&lt;script&gt;" in heading and r"\*bold\*" in heading and r"\[link\]" in heading
    assert r"\$x\$" in heading and doc.splitlines()[1] == ""          # one line: the newline is a space


def test_md_escape_keeps_plain_titles_readable():
    assert md_escape("Mazur 2-2-2 (file 000), lr 0.5") == "Mazur 2-2-2 (file 000), lr 0.5"
    assert md_escape("a & b") == "a &amp; b"
