"""derive notes SPEC -o FILE.tex|FILE.md [--force] [--pdf]: a whole document for lecture notes.

The network figure, forward pass, error, every derivation with numbers, one update (and, for linear
networks, the 7-formula sheet). For a fit spec (a [data] table, file 001): the data set, the forward
pass, the loss and every gradient in matrix form, proved equal to the scalar chain rule.
Never overwrites without --force; writes atomically.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading
from pathlib import Path

from derive.errors import DeriveError
from derive.cli.latex import OptionError, add_options, load_network
from derive.core.fitspec import FitSpec
from derive.cli.common import read_spec
from derive.render.latex import markdown, tex, write
from derive.render.output import check_output, written
from derive.extras import MissingExtra
from derive.numeric.fit import run_fit
from derive.render.latex.matrix import fit_markdown, fit_tex
from derive.render.plots import plot_fits

INSTALL = "apt-get install texlive-latex-base texlive-latex-recommended texlive-pictures"


class PdfError(DeriveError):
    """pdflatex is missing or failed."""


def add_parser(sub) -> None:
    p = sub.add_parser("notes", help="a whole document (LaTeX or Markdown) of every derivation with numbers")
    p.add_argument("spec", metavar="SPEC", help="a spec file (TOML); a fit spec ([data]) gives the matrix form")
    p.add_argument("-o", "--output", required=True, metavar="FILE", help="FILE.tex or FILE.md")
    p.add_argument("--force", action="store_true", help="overwrite FILE (and FILE.pdf) if they exist")
    p.add_argument("--pdf", action="store_true", help="also run pdflatex on FILE.tex, writing FILE.pdf")
    p.add_argument("--full", action="store_true",
                   help="every parameter's whole derivation (default: one of each kind in full, the rest as tables)")
    p.add_argument("--no-run", action="store_true",
                   help="fit specs: leave out the run (by default the fit is trained and its accuracy, final "
                        "loss and loss curve, FILE-loss.png where matplotlib is installed, go in the document)")
    add_options(p)
    p.set_defaults(run=run)


def run(args) -> int:
    out = Path(args.output)
    kind = out.suffix.lower()
    if kind not in (".tex", ".md"):
        raise OptionError(f"-o: expected a file name ending in .tex or .md, got {args.output!r}")
    if args.pdf and kind != ".tex":
        raise OptionError("--pdf: needs -o FILE.tex")
    if args.pdf and shutil.which("pdflatex") is None:
        raise PdfError(f"--pdf: pdflatex not found; install it with: {INSTALL}")
    pdf = out.with_suffix(".pdf")
    for path in [out] + ([pdf] if args.pdf else []):
        check_output(path, args.force)
    loaded = read_spec(args.spec)          # the file read once, either kind
    fit = loaded if isinstance(loaded, FitSpec) else None
    if fit is not None:
        result = None if args.no_run else run_fit(fit)
        figure = _loss_figure(result, out, args.force) if result is not None else None
        text = (fit_tex if kind == ".tex" else fit_markdown)(fit, result, figure)
    else:
        net = load_network(args, loaded)
        render = tex if kind == ".tex" else markdown
        text = render(net, args.digits, full=args.full)
    write(out, text, force=args.force)
    print(f"wrote {out}")
    if args.pdf:
        compile_pdf(out, pdf, args.force)
        print(f"wrote {pdf}")
    return 0


def _loss_figure(result, out: Path, force: bool) -> str | None:
    """FILE-loss.png beside the document (its name, for the document), or None without matplotlib."""
    png = check_output(out.with_name(f"{_safe_stem(out.stem)}-loss.png"), force)
    try:
        plot_fits([result], png, force=force)
    except MissingExtra:
        return None
    return png.name


def _safe_stem(stem: str) -> str:
    """The figure's file name as the document names it: letters, digits, '.', '_' and '-' only, so no
    output name (`\\input{x}.tex`, `a%b.tex`, `a b.md`) becomes TeX or Markdown inside the document."""
    return re.sub(r"[^A-Za-z0-9._-]", "_", stem).lstrip("-.") or "notes"


def compile_pdf(tex_file: Path, pdf: Path, force: bool = True) -> None:
    """pdflatex on a copy of the document in a private temporary folder (outside the output's: a kill
    leaves nothing beside the output), the PDF moved into place atomically only on success. The output
    folder is on TEXINPUTS for its figures; the file is `document.tex` there, so no name is read as an
    option or as TeX; shell escape is off and pdflatex never waits for input."""
    check_output(pdf, force)
    with _terminated_as_exit(), tempfile.TemporaryDirectory(prefix="derive-pdflatex-") as scratch:
        shutil.copyfile(tex_file, Path(scratch) / "document.tex")
        env = dict(os.environ, TEXINPUTS=os.path.abspath(tex_file.parent) + os.sep + os.pathsep
                   + os.environ.get("TEXINPUTS", ""))
        done = subprocess.run(PDFLATEX + ["document.tex"], capture_output=True, text=True, errors="replace",
                              stdin=subprocess.DEVNULL, cwd=scratch, env=env)
        built = Path(scratch) / "document.pdf"
        if done.returncode != 0 or not built.exists():
            first = next((l for l in done.stdout.splitlines() if l.startswith("!")), "see pdflatex's log")
            raise PdfError(f"{tex_file}: pdflatex failed: {first}")
        with written(pdf, True) as tmp:
            shutil.copyfile(built, tmp)


PDFLATEX = ["pdflatex", "-no-shell-escape", "-interaction=nonstopmode", "-halt-on-error", "-jobname=document"]


@contextlib.contextmanager
def _terminated_as_exit():
    """While pdflatex runs, SIGTERM (a kill, a CI time-out) unwinds like Ctrl-C, so the temporary folder
    is removed and pdflatex stopped; the old handler is back afterwards."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    def stop(signum, frame):
        raise SystemExit(128 + signum)
    old = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, old)
