"""derive grade DIR/key.json ANSWERS.csv [--json]: students' answers marked with follow-through.

Each answer is judged by its digits (rounded, truncated, propagated: right from the student's own earlier
answers, or mismatch); prints a table per student and the totals, and writes ANSWERS.marked.csv beside the
answers. An unknown student or key is bad input (exit 2).
"""

from __future__ import annotations

from pathlib import Path

from derive.check.grade import CREDIT, grade, load_key, read_answers, write_marks
from derive.cli.common import emit_json
from derive.render.text import table


def add_parser(sub) -> None:
    p = sub.add_parser("grade", help="mark students' answers against an exercise key, with follow-through")
    p.add_argument("key", metavar="KEY", help="DIR/key.json written by derive exercise")
    p.add_argument("answers", metavar="ANSWERS.csv", help="rows student,key,answer (answers as written)")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of tables")
    p.set_defaults(run=run)


def marked_path(answers: str) -> Path:
    path = Path(answers)
    return path.with_name(path.stem + ".marked.csv")


def run(args) -> int:
    key = load_key(args.key)
    results = grade(key, read_answers(args.answers), source=args.answers)
    out = write_marks(marked_path(args.answers), results)
    if args.json:
        emit_json({"students": [s.as_json() for s in results], "marked": str(out)})
        return 0
    for s in results:
        rows = [(m.key, m.answer, f"{m.expected:.6g}", m.verdict) for m in s.marks]
        print(f"student {s.id}: {s.score}/{len(s.marks)}")
        print(table(rows, ["key", "answer", "expected", "verdict"]))
        for m in s.marks:
            if m.verdict == "propagated":
                print(f"  {m.key}: follow-through, {m.formula}")
        print()
    total = sum(s.score for s in results)
    answered = sum(len(s.marks) for s in results)
    print(f"{len(results)} students, {answered} answers: {total} marked right ({', '.join(CREDIT)}), "
          f"{answered - total} mismatch")
    print(f"wrote {out}")
    return 0
