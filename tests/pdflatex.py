"""Compiling documents with the real pdflatex, for the LaTeX tests (skipped, saying how to install it)."""

import re
import shutil
import subprocess

import pytest

INSTALL = "apt-get install texlive-latex-base texlive-latex-recommended texlive-pictures"
needs_pdflatex = pytest.mark.skipif(shutil.which("pdflatex") is None, reason=f"pdflatex not installed: {INSTALL}")
OVERFULL = re.compile(r"Overfull \\hbox \((\d+(?:\.\d+)?)pt too wide\)")


def assert_compiles(tex_file) -> None:
    """pdflatex compiles `tex_file` in its folder with no error and no line more than 1pt wider than the page."""
    done = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", tex_file.name],
                          cwd=tex_file.parent, capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=240)
    log = tex_file.with_suffix(".log").read_text(errors="replace")
    assert done.returncode == 0, next((l for l in log.splitlines() if l.startswith("!")), done.stdout[-2000:])
    too_wide = [float(w) for w in OVERFULL.findall(log)]
    assert not [w for w in too_wide if w > 1.0], f"lines wider than the page by {too_wide} pt"
