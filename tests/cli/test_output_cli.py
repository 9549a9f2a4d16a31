"""Every command that writes a file (--plot of train, sweep, fit; notes -o and --pdf; exercise -o) refuses in
one line, exit 2, no traceback: an existing file without --force, a symlink, a directory, a missing or
non-directory parent, a directory it may not write (issue 14). pdflatex runs without shell escape, on a
name no user can turn into an option, and a killed run leaves no scratch folder behind."""

import os
import signal
import subprocess
import sys
import tempfile
import time

import pytest

from derive.cli import main

PLOTTERS = {
    "train": ["train", "seven_1_1.toml", "--epochs", "3"],
    "sweep": ["sweep", "seven_1_1.toml", "--lr", "0.1,0.2", "--epochs", "3"],
    "fit": ["fit", "file001_neuron.toml", "--epochs", "2"],
}


def _argv(examples, command, out):
    if command == "notes":
        return ["notes", str(examples / "seven_1_1.toml"), "-o", str(out.with_suffix(".md"))]
    if command == "exercise":
        return ["exercise", str(examples / "mazur_2_2_2.toml"), "--students", "1", "--seed", "1", "--no-pdf",
                "-o", str(out.parent)]
    name, spec, *rest = PLOTTERS[command]
    return [name, str(examples / spec), *rest, "--plot", str(out.with_suffix(".png"))]


def _one_line(capsys, *words):
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("derive: ") and "Traceback" not in err, err
    for w in words:
        assert w in err, err


@pytest.fixture(autouse=True)
def _agg(monkeypatch):
    monkeypatch.setenv("MPLBACKEND", "Agg")


@pytest.mark.parametrize("command", ["train", "sweep", "fit", "notes"])
def test_an_existing_output_is_kept_without_force(examples, tmp_path, capsys, command):
    pytest.importorskip("matplotlib")
    argv = _argv(examples, command, tmp_path / "out")
    target = tmp_path / ("out.md" if command == "notes" else "out.png")
    target.write_text("the user's file")
    assert main(argv) == 2
    _one_line(capsys, "exists", "--force")
    assert target.read_text() == "the user's file"
    assert main(argv + ["--force"]) in ((0, 1) if command == "fit" else (0,))    # fit: 1 = not the notes' numbers
    assert target.read_text(errors="replace") != "the user's file"


@pytest.mark.parametrize("command", ["train", "sweep", "fit", "notes"])
def test_a_symlink_is_never_written_through(examples, tmp_path, capsys, command):
    victim = tmp_path / "spec.toml"
    victim.write_text("a spec the user keeps")
    link = tmp_path / ("out.md" if command == "notes" else "out.png")
    link.symlink_to(victim)
    assert main(_argv(examples, command, tmp_path / "out") + ["--force"]) == 2
    _one_line(capsys, "symbolic link")
    assert victim.read_text() == "a spec the user keeps" and link.is_symlink()


@pytest.mark.parametrize("command", ["train", "sweep", "fit", "notes"])
def test_a_directory_as_the_file_is_refused_even_with_force(examples, tmp_path, capsys, command):
    (tmp_path / ("out.md" if command == "notes" else "out.png")).mkdir()
    assert main(_argv(examples, command, tmp_path / "out") + ["--force"]) == 2
    _one_line(capsys, "is a directory")


@pytest.mark.parametrize("command", ["train", "sweep", "fit", "notes"])
@pytest.mark.parametrize("parent, words", [("missing", ["does not exist"]), ("a-file", ["is not a directory"])])
def test_a_parent_that_is_missing_or_a_file_is_refused(examples, tmp_path, capsys, command, parent, words):
    (tmp_path / "a-file").write_text("")                  # a path under a regular file: unwritable for root too
    assert main(_argv(examples, command, tmp_path / parent / "out")) == 2
    _one_line(capsys, *words)


@pytest.mark.parametrize("command", ["train", "notes", "exercise"])
def test_permission_denied_is_one_line(examples, tmp_path, capsys, monkeypatch, command):
    pytest.importorskip("matplotlib")

    def denied(*args, **kwargs):           # tests may run as root, who may write anywhere: simulate it
        raise PermissionError(13, "Permission denied")
    monkeypatch.setattr(tempfile, "mkstemp", denied)
    assert main(_argv(examples, command, tmp_path / "out")) == 2
    _one_line(capsys, "Permission denied")
    assert not [p for p in tmp_path.rglob("*") if p.is_file()]


def test_exercise_refuses_an_existing_sheet_before_writing_anything(examples, tmp_path, capsys):
    sheet = tmp_path / "student-01.tex"
    sheet.write_text("graded already")
    argv = _argv(examples, "exercise", tmp_path / "out")
    assert main(argv) == 2
    _one_line(capsys, "student-01.tex", "--force")
    assert sheet.read_text() == "graded already" and not (tmp_path / "key.json").exists()


def test_exercise_under_a_regular_file_is_one_line(examples, tmp_path, capsys):
    (tmp_path / "f").write_text("")
    argv = _argv(examples, "exercise", tmp_path / "f" / "sub" / "x")
    assert main(argv) == 2
    _one_line(capsys, "cannot create the directory")


# --- titles and file names through matplotlib's math-text parser ---------------------------------

TITLE = r"cost $\undefinedmacro$ and $x^$"


def test_the_raw_title_would_crash_matplotlib(tmp_path):
    """The reproducer: without escaping, this title makes savefig raise (so the tests below can fail)."""
    plt = pytest.importorskip("matplotlib.pyplot")
    fig, ax = plt.subplots()
    ax.set_title(TITLE)
    with pytest.raises(ValueError):
        fig.savefig(tmp_path / "raw.png")
    plt.close(fig)


@pytest.mark.parametrize("command", ["train", "sweep"])
def test_a_title_with_math_text_is_drawn_literally(examples, tmp_path, command):
    pytest.importorskip("matplotlib")
    text = (examples / "seven_1_1.toml").read_text()
    spec = tmp_path / "spec.toml"
    spec.write_text(text.replace('title = "1-1 linear neuron, file 004 (7 formulas)"',
                                 'title = "' + TITLE.replace("\\", "\\\\") + '"'))
    assert "undefinedmacro" in spec.read_text()
    out = tmp_path / "p.png"
    argv = [command, str(spec), "--epochs", "3", "--plot", str(out)] + (["--lr", "0.1"] if command == "sweep" else [])
    assert main(argv) == 0
    assert out.read_bytes()[:4] == b"\x89PNG"


def test_a_spec_path_with_math_text_is_drawn_literally(examples, tmp_path):
    pytest.importorskip("matplotlib")
    text = (examples / "seven_1_1.toml").read_text()
    spec = tmp_path / "$\\undefinedmacro$.toml"
    spec.write_text("\n".join(l for l in text.splitlines() if not l.startswith("title")))
    out = tmp_path / "p.png"
    assert main(["train", str(spec), "--epochs", "2", "--plot", str(out)]) == 0
    assert out.read_bytes()[:4] == b"\x89PNG"


def test_plain_escapes_every_dollar():
    from derive.render.plots import plain
    assert plain(TITLE) == r"cost \$\undefinedmacro\$ and \$x^\$"
    assert plain("no math") == "no math"


# --- pdflatex: its options, the name it is given, a kill ---------------------------------------

FAKE = r"""#!{python}
import os, sys, time, pathlib
pathlib.Path(os.environ["FAKE_LOG"]).write_text("\n".join(sys.argv[1:]) + "\n" + os.getcwd())
if os.environ.get("FAKE_SLEEP"):
    time.sleep(float(os.environ["FAKE_SLEEP"]))
pathlib.Path("document.pdf").write_bytes(b"%PDF-1.4 fake")
"""


@pytest.fixture
def fake_pdflatex(tmp_path, monkeypatch):
    """A pdflatex on PATH that records its arguments (and, with FAKE_SLEEP, takes its time)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    exe = bin_dir / "pdflatex"
    exe.write_text(FAKE.replace("{python}", sys.executable))
    exe.chmod(0o755)
    log = tmp_path / "pdflatex-args"
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("FAKE_LOG", str(log))
    monkeypatch.setenv("TMPDIR", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    monkeypatch.setattr(tempfile, "tempdir", None)        # re-read TMPDIR
    return log


def test_pdflatex_runs_without_shell_escape_on_a_name_that_is_no_option(examples, tmp_path, fake_pdflatex,
                                                                         monkeypatch):
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    monkeypatch.chdir(out_dir)
    assert main(["notes", str(examples / "seven_1_1.toml"), "--output=-shell-escape.tex", "--pdf"]) == 0
    args, cwd = fake_pdflatex.read_text().rsplit("\n", 1)
    args = args.splitlines()
    assert "-no-shell-escape" in args and "-interaction=nonstopmode" in args
    assert "-shell-escape" not in args and not any("shell-escape.tex" in a for a in args)
    assert cwd.startswith(str(tmp_path / "tmp" / "derive-pdflatex-"))   # its files go to a private folder
    assert (out_dir / "-shell-escape.pdf").read_bytes().startswith(b"%PDF")
    assert sorted(p.name for p in out_dir.iterdir()) == ["-shell-escape.pdf", "-shell-escape.tex"]
    assert list((tmp_path / "tmp").iterdir()) == []


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_killed_notes_pdf_leaves_no_scratch_folder(examples, tmp_path, fake_pdflatex, sig):
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    env = dict(os.environ, FAKE_SLEEP="60", PYTHONPATH=str(examples.parent))
    proc = subprocess.Popen([sys.executable, "-m", "derive", "notes", str(examples / "seven_1_1.toml"),
                             "-o", str(out_dir / "n.tex"), "--pdf"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))   # not ignored
                            # as a background job's is: Python then turns it into KeyboardInterrupt
    deadline = time.monotonic() + 120
    while not fake_pdflatex.exists():                     # pdflatex has started: the scratch folder exists
        assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
        time.sleep(0.05)
    assert [p.name for p in (tmp_path / "tmp").iterdir() if p.name.startswith("derive-pdflatex-")]
    proc.send_signal(sig)
    proc.communicate(timeout=60)
    assert proc.returncode != 0
    leftovers = [p for p in list(out_dir.rglob("*")) + list((tmp_path / "tmp").rglob("*"))
                 if "pdflatex" in p.name or p.suffix == ".tmp"]
    assert leftovers == [] and not (out_dir / "n.pdf").exists()


def test_grade_never_writes_its_marks_through_a_link(examples, tmp_path, capsys):
    assert main(_argv(examples, "exercise", tmp_path / "out")) == 0
    answers = tmp_path / "answers.csv"
    answers.write_text("student,key,answer\n01,net_h1,0.5\n")
    victim = tmp_path / "victim.txt"
    victim.write_text("keep")
    (tmp_path / "answers.marked.csv").symlink_to(victim)
    capsys.readouterr()
    assert main(["grade", str(tmp_path / "key.json"), str(answers)]) == 2
    _one_line(capsys, "symbolic link")
    assert victim.read_text() == "keep"
    (tmp_path / "answers.marked.csv").unlink()
    assert main(["grade", str(tmp_path / "key.json"), str(answers)]) == 0
    assert (tmp_path / "answers.marked.csv").read_text().startswith("student,key,answer,verdict")
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


@pytest.mark.parametrize("name", ["\\input{x}.md", "a%b.md", "-o x.md", "[l](j).md"])
def test_the_loss_figure_of_fit_notes_has_a_name_the_document_can_hold(examples, tmp_path, name):
    """Its name is in \\includegraphics{…} / ![…](…): from the output's name, only safe characters."""
    pytest.importorskip("matplotlib")
    out = tmp_path / name
    assert main(["notes", str(examples / "file001_neuron.toml"), f"--output={out}"]) == 0
    [png] = [p for p in tmp_path.iterdir() if p.suffix == ".png"]
    assert all(c.isalnum() or c in "._-" for c in png.name) and not png.name.startswith("-")
    assert f"]({png.name})" in out.read_text()


@pytest.mark.parametrize("command", ["train", "sweep", "fit", "notes", "exercise"])
@pytest.mark.parametrize("bad", ["long", "deep", "loop"])
def test_names_the_system_refuses_are_one_line(examples, tmp_path, capsys, command, bad):
    """A name over 255 bytes, a path over PATH_MAX, a loop of links: os.stat itself raises there
    (ENAMETOOLONG, ELOOP), which Path.exists() does not swallow."""
    (tmp_path / "loop1").symlink_to(tmp_path / "loop2")
    (tmp_path / "loop2").symlink_to(tmp_path / "loop1")
    where = {"long": tmp_path / ("x" * 300), "deep": tmp_path / ("d/" * 3000) / "x",
             "loop": tmp_path / "loop1" / "x"}[bad]
    argv = _argv(examples, command, where)
    if command == "exercise":
        argv[-1] = str(where)
    assert main(argv) == 2
    _one_line(capsys)
