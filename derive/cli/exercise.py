"""derive exercise SPEC --students N --seed S -o DIR [--digits D] [--pdf|--no-pdf] [--force]: exercise sheets.

Per student DIR/student-NN.tex (the problem: the network with that student's numbers and the questions)
and DIR/student-NN-solution.tex (the worked solution), compiled to PDF when pdflatex is installed, and
DIR/key.json with every student's values and exact answers under [hand] keys, for `derive grade`.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path

from derive.check.exercise import draw_students, key_json
from derive.cli.common import warn_unusual_pair
from derive.cli.notes import compile_pdf
from derive.core.reading import read_toml
from derive.errors import OptionError, shown
from derive.render.latex import write
from derive.render.output import check_output
from derive.render.latex.exercise import problem_tex, solution_tex


def add_parser(sub) -> None:
    p = sub.add_parser("exercise", help="one problem sheet and worked solution per student, and the answer key")
    p.add_argument("spec", metavar="SPEC", help="a network spec (TOML): its network, notation and learning rate")
    p.add_argument("--students", type=int, required=True, metavar="N", help="how many students (1-500)")
    p.add_argument("--seed", type=int, required=True, metavar="S", help="the seed the values are drawn from")
    p.add_argument("-o", "--output", required=True, metavar="DIR", help="a directory (created if missing)")
    p.add_argument("--digits", type=int, default=4, metavar="D",
                   help="decimals students give (1-8, default 4); no gradient may round to 0 at D decimals")
    p.add_argument("--no-pdf", action="store_true", help="write the .tex only, even with pdflatex installed")
    p.add_argument("--force", action="store_true", help="overwrite the files of an earlier run")
    p.set_defaults(run=run)


def run(args) -> int:
    if not 1 <= args.students <= 500:
        raise OptionError(f"--students: expected a whole number from 1 to 500, got {args.students}")
    if not 1 <= args.digits <= 8:
        raise OptionError(f"--digits: expected a whole number from 1 to 8, got {args.digits}")
    out = Path(args.output)
    try:
        a_file = out.exists() and not out.is_dir()
    except OSError as exc:              # a name too long, a loop of links
        raise OptionError(f"-o: cannot use {shown(args.output)} ({exc.strerror or exc})") from None
    if a_file:
        raise OptionError(f"-o: expected a directory, got the file {shown(args.output)}")
    base = read_toml(args.spec)
    students = draw_students(base, args.students, args.seed, args.digits, source=args.spec)
    warn_unusual_pair(replace(students[0].net.spec, source=args.spec))
    _make_dir(out)
    key = out / "key.json"
    pdf = shutil.which("pdflatex") is not None and not args.no_pdf
    names = [f"student-{s.id}{part}" for s in students for part in ("", "-solution")]
    for path in [key] + [out / f"{n}{ext}" for n in names for ext in ((".tex", ".pdf") if pdf else (".tex",))]:
        check_output(path, args.force)       # every refusal before the first file is written
    title = base.get("title", "") if isinstance(base.get("title", ""), str) else ""
    for s in students:
        for name, text in ((f"student-{s.id}", problem_tex(s.net, s.id, args.digits, title)),
                           (f"student-{s.id}-solution", solution_tex(s.net, s.id, args.digits, s.answers, title))):
            tex = write(out / f"{name}.tex", text, force=args.force)
            if pdf:
                compile_pdf(tex, tex.with_suffix(".pdf"), args.force)
    write(key, json.dumps(key_json(base, students, args.seed, args.digits), indent=2) + "\n", force=args.force)
    made = "the .tex and .pdf" if pdf else "the .tex (no pdflatex: no .pdf)"
    print(f"wrote {len(students)} sheets and {len(students)} solutions ({made}) and {key}")
    return 0


def _make_dir(out: Path) -> None:
    """DIR (and its parents) created where missing; a directory that cannot be made is one line."""
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OptionError(f"-o: cannot create the directory {shown(str(out))} ({exc.strerror or exc})") from None
