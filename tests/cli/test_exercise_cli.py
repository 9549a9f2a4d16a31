"""derive exercise and derive grade on the command line: the files, pdflatex, the marked CSV, --json, exit 2."""

import csv
import json
import subprocess
import sys

import pytest

from derive.cli import main
from pdflatex import assert_compiles, needs_pdflatex


def run(*args):
    return subprocess.run([sys.executable, "-m", "derive", *map(str, args)], capture_output=True, text=True)


@pytest.fixture(scope="module")
def sheets(tmp_path_factory):
    from conftest import EXAMPLES
    out = tmp_path_factory.mktemp("sheets")
    assert main(["exercise", str(EXAMPLES / "mazur_2_2_2.toml"), "--students", "3", "--seed", "5", "-o", str(out),
                 "--no-pdf"]) == 0
    return out


def test_exercise_writes_a_sheet_and_a_solution_per_student_and_the_key(sheets):
    names = sorted(p.name for p in sheets.iterdir())
    assert names == ["key.json"] + [f"student-0{i}{s}.tex" for i in (1, 2, 3) for s in ("-solution", "")]
    key = json.loads((sheets / "key.json").read_text())
    assert [s["id"] for s in key["students"]] == ["01", "02", "03"]
    assert set(key["students"][0]["values"]) == {"inputs", "targets", "weights", "biases", "learning_rate"}
    sheet = (sheets / "student-01.tex").read_text()
    w1 = key["students"][0]["values"]["weights"][0]
    assert r"\begin{tikzpicture}" in sheet and r"\texttt{dE\_total/dw5}" in sheet and f"{w1:g}" in sheet
    assert "0.5932" not in sheet                                     # file 000's numbers are not on it


def test_the_solution_holds_the_students_answers(sheets):
    key = json.loads((sheets / "key.json").read_text())
    answer = key["students"][1]["answers"]["dE_total/dw5"]
    assert f"{answer:.4f}" in (sheets / "student-02-solution.tex").read_text()


def test_exercise_refuses_to_overwrite(sheets, examples):
    done = run("exercise", examples / "mazur_2_2_2.toml", "--students", "1", "--seed", "1", "-o", sheets, "--no-pdf")
    assert done.returncode == 2 and "--force" in done.stderr and "Traceback" not in done.stderr


@needs_pdflatex
def test_pdflatex_compiles_sheets_and_solutions(tmp_path, examples):
    assert main(["exercise", str(examples / "mazur_2_2_2.toml"), "--students", "2", "--seed", "9", "-o",
                 str(tmp_path)]) == 0
    assert sorted(p.name for p in tmp_path.glob("*.pdf")) == [
        "student-01-solution.pdf", "student-01.pdf", "student-02-solution.pdf", "student-02.pdf"]
    assert_compiles(tmp_path / "student-01.tex")
    assert_compiles(tmp_path / "student-01-solution.tex")


def test_exercise_in_nielsen_notation(tmp_path, examples):
    assert main(["exercise", str(examples / "nielsen_2_2_2.toml"), "--students", "1", "--seed", "3", "-o",
                 str(tmp_path), "--no-pdf"]) == 0
    key = json.loads((tmp_path / "key.json").read_text())
    assert {"a2_1", "C", "dC/dw3_1_1", "w3_1_1+"} <= set(key["students"][0]["answers"])
    assert "a^{2}_{1}" in (tmp_path / "student-01.tex").read_text()


def test_grade_prints_marks_and_writes_the_csv(sheets, capsys):
    key = json.loads((sheets / "key.json").read_text())
    a = key["students"][0]["answers"]
    answers = sheets / "answers.csv"
    answers.write_text(f"student,key,answer\n01,out_h1,{a['out_h1'] + 0.05:.4f}\n01,E_total,{a['E_total']:.4f}\n")
    assert main(["grade", str(sheets / "key.json"), str(answers), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    [student] = data["students"]
    assert student["id"] == "01" and student["score"] == 1
    assert [m["verdict"] for m in student["answers"]] == ["mismatch", "rounded"]
    assert set(student["answers"][0]) >= {"key", "answer", "verdict", "expected", "explanation"}
    rows = list(csv.DictReader((sheets / "answers.marked.csv").open()))
    assert [r["verdict"] for r in rows] == ["mismatch", "rounded"]
    assert main(["grade", str(sheets / "key.json"), str(answers)]) == 0
    assert "student 01: 1/2" in capsys.readouterr().out


@pytest.mark.parametrize("row, says", [("07,out_h1,0.5", "student"), ("01,out_z1,0.5", "key"), ("01,out_h1", "three columns")])
def test_grade_bad_rows_exit_2_with_one_line(sheets, tmp_path, row, says):
    answers = tmp_path / "bad.csv"
    answers.write_text(row + "\n")
    done = run("grade", sheets / "key.json", answers)
    assert done.returncode == 2 and says in done.stderr and len(done.stderr.strip().splitlines()) == 1
