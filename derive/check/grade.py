"""Marking students' answers against an exercise key, with follow-through: each answer is judged by its digits
as `derive check` judges a printed value (rounded, truncated, propagated, mismatch), the student's own
answers standing as the printed values, so a wrong early number costs marks once and not at every later
line computed from it."""

from __future__ import annotations

import csv
import io
import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from derive.check.exercise import spec_data
from derive.check.hand import check_hand, decimals
from derive.check.quantities import parse_key, printed_number
from derive.core.spec import spec_from_dict
from derive.errors import OptionError, SpecError, clip
from derive.numeric.network import Network

__all__ = ["Mark", "StudentMarks", "load_key", "read_answers", "grade", "write_marks", "CREDIT"]

CREDIT = ("rounded", "truncated", "propagated")   # the verdicts that earn the mark
COLUMNS = ("student", "key", "answer")


@dataclass
class Mark:
    """One answer, judged: its verdict, the exact value, why, and (propagated) the formula that shows it."""

    key: str
    answer: str
    verdict: str
    expected: float
    explanation: str
    formula: str = ""
    propagated_from: dict[str, str] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        out = {"key": self.key, "answer": self.answer, "verdict": self.verdict, "expected": self.expected,
               "explanation": self.explanation}
        if self.verdict == "propagated":
            out.update(formula=self.formula, propagated_from=self.propagated_from)
        return out


@dataclass
class StudentMarks:
    id: str
    marks: list[Mark]

    @property
    def score(self) -> int:
        return sum(m.verdict in CREDIT for m in self.marks)

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "score": self.score, "answered": len(self.marks),
                "answers": [m.as_json() for m in self.marks]}


def load_key(path: str | Path) -> dict[str, Any]:
    """DIR/key.json as written by `derive exercise`; SpecError naming the file and what is wrong."""
    source = str(path)
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SpecError("(file)", "an existing key.json written by derive exercise", source=source) from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SpecError("(json)", f"a readable key.json ({exc.__class__.__name__})", source=source) from None
    if not isinstance(data, dict) or not isinstance(data.get("students"), list) or "network" not in data:
        raise SpecError("students", "a key.json with network and students (written by derive exercise)",
                        source=source)
    for i, s in enumerate(data["students"]):
        if not isinstance(s, dict) or not {"id", "values", "answers"} <= set(s):
            raise SpecError(f"students[{i}]", "an object with id, values and answers", source=source)
        _check_student(s, f"students[{i}]", source)
    return data


def _check_student(s: dict, key: str, source: str) -> None:
    """A student of a key as derive exercise writes one: an id, a values table, answers that are numbers."""
    if isinstance(s["id"], bool) or not isinstance(s["id"], (str, int)):
        raise SpecError(f"{key}.id", "a string or a whole number", got=s["id"], source=source)
    if not isinstance(s["values"], dict):
        raise SpecError(f"{key}.values", "a table of the student's values", got=s["values"], source=source)
    if not isinstance(s["answers"], dict):
        raise SpecError(f"{key}.answers", "a table of answers by key", got=s["answers"], source=source)
    for k, v in s["answers"].items():
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            raise SpecError(f"{key}.answers.{k}", "a finite number", got=v, source=source)


def read_answers(path: str | Path) -> list[tuple[str, str, str]]:
    """The rows student,key,answer (a header row of those names is skipped); SpecError naming the line."""
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise SpecError("(file)", "an existing CSV of student,key,answer rows", source=source) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError("(file)", f"a readable UTF-8 CSV ({exc.__class__.__name__})", source=source) from None
    rows = []
    for line, row in enumerate(csv.reader(text.splitlines()), start=1):
        if not row or all(not c.strip() for c in row):
            continue
        cells = tuple(c.strip() for c in row)
        if line == 1 and tuple(c.lower() for c in cells) == COLUMNS:
            continue
        if len(cells) != 3:
            raise SpecError(f"line {line}", "three columns: student,key,answer", got=",".join(row), source=source)
        rows.append(cells)
    return rows


def _student_net(key: dict, student: dict) -> Network:
    return Network(spec_from_dict(spec_data(key, student["values"]), source=f"key.json student {student['id']}"))


def grade(key: dict[str, Any], rows: list[tuple[str, str, str]], source: str | None = None) -> list[StudentMarks]:
    """Every student's answers judged against their own network; unknown students or keys are a SpecError."""
    students = {str(s["id"]): s for s in key["students"]}
    by_student: dict[str, list[tuple[str, str]]] = {}
    for student, k, answer in rows:
        if student not in students:
            raise SpecError("student", f"a student of the key ({', '.join(students)})", got=student, source=source)
        by_student.setdefault(student, []).append((k, answer))
    digits = key.get("digits")
    return [_grade_one(key, students[sid], answers, source, digits) for sid, answers in by_student.items()]


def _grade_one(key, student, answers, source, digits=None) -> StudentMarks:
    net = _student_net(key, student)
    graph = net.graph
    expected = {}
    for k, v in student["answers"].items():
        expected[parse_key(graph, k)] = float(v)
    hand, quantities, marks = {}, {}, {}
    for k, answer in answers:
        try:
            q = parse_key(graph, k)
        except SpecError:
            q = None
        if q is None or q not in expected:
            raise SpecError("key", f"a key of student {student['id']}'s sheet (as in key.json: "
                                   f"{', '.join(list(student['answers'])[:6])}, …)", got=k, source=source)
        if q in quantities.values():
            raise SpecError("key", f"one answer per key for student {student['id']}", got=k, source=source)
        quantities[k] = q
        if _number(answer):
            hand[k] = answer
        else:
            marks[k] = Mark(k, answer, "mismatch", expected[q], f"{answer!r} is not a decimal number")
    report = check_hand(net, hand)
    for c in report.checks:
        verdict, why = c.verdict, c.explanation
        if isinstance(digits, int) and c.digits < digits and verdict in CREDIT:   # "0.5" where 4 decimals are asked
            verdict, why = "mismatch", f"{c.digits} decimals where the sheet asks for {digits} ({why})"
        marks[c.name] = Mark(c.name, c.hand, verdict, expected[quantities[c.name]], why, c.formula,
                             dict(c.propagated_from))
    return StudentMarks(str(student["id"]), [marks[k] for k, _ in answers])


def _number(text: str) -> bool:
    try:
        return printed_number(text).is_finite and math.isfinite(float(text))
    except (ArithmeticError, ValueError):
        return False


def write_marks(path: str | Path, results: list[StudentMarks]) -> Path:
    """The marked CSV: student,key,answer,verdict,expected,explanation, one row per answer. derive's own
    output, replaced on each run, atomically (a temporary file, then os.replace); never through a link."""
    path = Path(path)
    if path.is_symlink() or path.is_dir():
        raise OptionError(f"{clip(str(path))}: is a {'symbolic link' if path.is_symlink() else 'directory'}; "
                          "derive writes the marked answers beside ANSWERS.csv only as a file of its own")
    rows = io.StringIO(newline="")
    w = csv.writer(rows)
    w.writerow(["student", "key", "answer", "verdict", "expected", "explanation"])
    for s in results:
        for m in s.marks:
            w.writerow([s.id, m.key, m.answer, m.verdict, repr(m.expected), m.explanation])
    tmp = path.with_name(f".{path.name[:80]}.{os.getpid()}.tmp")
    try:
        tmp.write_text(rows.getvalue(), encoding="utf-8", newline="")
        os.replace(tmp, path)
    except OSError as exc:
        raise OptionError(f"cannot write {clip(str(path))} ({exc.strerror or exc})") from None
    finally:
        if tmp.exists():
            tmp.unlink()
    return path
