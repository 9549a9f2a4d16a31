"""check-code runs the user's function in a child process (issue 14): whatever it does, derive ends with one
line and a non-zero status, never a pass, and its --json stays strict JSON. The in-process Python API
(derive.check_gradients with a plain function) is unchanged (tests/check/test_usercode.py)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

import derive
import reference
from derive.check.user_code.load import load_function
from derive.errors import UserCodeError
from derive.cli import main
from test_usercode import MAZUR, USER_FILE

GOOD = "pass"


def user_file(tmp_path, tweak=GOOD, top=""):
    shutil.copy(Path(reference.__file__), tmp_path / "reference.py")
    path = tmp_path / "user.py"
    path.write_text(top + USER_FILE.format(spec=str(MAZUR), tweak=tweak))
    return path


def check_code(capsys, path, *extra):
    status = main(["check-code", str(MAZUR), f"{path}:gradients", *extra])
    out, err = capsys.readouterr()
    return status, out, err


def test_the_right_gradients_pass_in_the_child(tmp_path, capsys):
    status, out, err = check_code(capsys, user_file(tmp_path), "--json")
    assert status == 0 and json.loads(out)["agree"] is True


@pytest.mark.parametrize("tweak, says", [
    ("import os; os._exit(0)", "exited with status 0"),          # was: derive ended, status 0, no output
    ("import sys; sys.exit(0)", "raised: SystemExit"),
    ("import os, signal; os.kill(os.getpid(), signal.SIGSEGV)", "killed by signal 11"),   # a crash
    ("raise KeyboardInterrupt", "raised: KeyboardInterrupt"),
    ("while True: pass", "took over 1 s"),                        # was: derive hung
    ("import time; time.sleep(60)", "took over 1 s"),
    ("x = bytearray(8 * 1024 ** 3)", "MemoryError"),             # bounded address space in the child
])
def test_what_the_function_does_ends_in_one_line(tmp_path, capsys, tweak, says):
    status, out, err = check_code(capsys, user_file(tmp_path, tweak), "--json", "--timeout", "1")
    assert status == 2 and out == ""
    assert says in err.splitlines()[-1], err


def test_an_exit_at_import_is_not_a_pass(tmp_path, capsys):
    status, out, err = check_code(capsys, user_file(tmp_path, top="import os\nos._exit(0)\n"), "--json")
    assert status == 2 and out == "" and "importing it" in err


def test_monkeypatching_derive_does_not_make_wrong_code_pass(tmp_path, capsys):
    top = ("import derive.check.user_code.compare as c\n"
           "c._close = lambda *a: True\n")
    status, out, err = check_code(capsys, user_file(tmp_path, 'g["w1"] *= 2', top=top), "--json")
    assert status == 1 and json.loads(out)["params"]["w1"]["ok"] is False


def test_writing_to_file_descriptor_1_does_not_reach_the_json(tmp_path, capsys):
    tweak = 'import os; os.write(1, b"garbage on fd 1\\n"); print("and a print")'
    status, out, err = check_code(capsys, user_file(tmp_path, tweak), "--json")
    assert status == 0 and json.loads(out)["agree"] is True and "and a print" in err


def test_the_functions_warnings_are_its_own_output_on_stderr(tmp_path, capsys):
    """Campaign, seed 13: notes_000's sigmoid overflowed (RuntimeWarning at its line); such a warning is the
    user's, shown on stderr with their file's line, and --json stays strict."""
    import subprocess
    import sys
    tweak = 'import numpy as np; np.float64(10.0) ** 400'
    run = subprocess.run([sys.executable, "-m", "derive", "check-code", str(MAZUR),    # pytest records warnings
                          f"{user_file(tmp_path, tweak)}:gradients", "--json"],      # itself: a real process
                         capture_output=True, text=True, timeout=120, cwd=Path(derive.__file__).parents[1])
    status, out, err = run.returncode, run.stdout, run.stderr
    assert status == 0 and json.loads(out)["agree"] is True
    assert "RuntimeWarning: overflow" in err and "user.py" in err


@pytest.mark.parametrize("tweak, says", [
    ("class Bad(float):\n        def __float__(self): raise RuntimeError('no')\n    g = {k: Bad(v) for k, v in g.items()}",
     "RuntimeError"),
    ("class M(dict):\n        def items(self): raise RuntimeError('broken mapping')\n    g = M(g)",
     "broken mapping"),
])
def test_returned_values_that_raise_are_the_users(tmp_path, capsys, tweak, says):
    status, out, err = check_code(capsys, user_file(tmp_path, tweak), "--json")
    assert status == 2 and says in err.splitlines()[-1] and "user.py:gradients" in err


def test_timeout_must_be_positive(capsys):
    with pytest.raises(SystemExit):
        main(["check-code", str(MAZUR), "x.py:f", "--timeout", "0"])


# --- the matrix form (FUNC(weights, biases, x, t)) runs in a child process too ----------------------------
MATRIX_USER = '''
import numpy as np

def grads(W, b, x, t):
    """Mazur's 2-2-2 sigmoid net, half squared error, one sample; written here, not derive's."""
    {tweak}
    h = 1 / (1 + np.exp(-(W[0] @ x + b[0])))
    o = 1 / (1 + np.exp(-(W[1] @ h + b[1])))
    d2 = (o - t) * o * (1 - o)
    d1 = (W[1].T @ d2) * h * (1 - h)
    return [np.outer(d1, x), np.outer(d2, h)], [d1, d2]
'''


def matrix_file(tmp_path, tweak=GOOD, top=""):
    path = tmp_path / "mat.py"
    path.write_text(top + MATRIX_USER.replace("{tweak}", tweak))
    return path


def _matrix(capsys, path, *extra):
    status = main(["check-code", str(MAZUR), f"{path}:grads", "--form", "matrices", *extra])
    out, err = capsys.readouterr()
    return status, out, err


def test_the_matrix_form_passes_in_the_child(tmp_path, capsys):
    status, out, err = _matrix(capsys, matrix_file(tmp_path), "--json", "--points", "2")
    assert status == 0 and json.loads(out)["agree"] is True


@pytest.mark.parametrize("tweak, says", [
    ("import os; os._exit(0)", "exited with status 0"),
    ("import sys; sys.exit(0)", "raised: SystemExit"),
    ("import os, signal; os.kill(os.getpid(), signal.SIGSEGV)", "killed by signal 11"),
    ("while True: pass", "took over 1 s"),
])
def test_what_the_matrix_function_does_ends_in_one_line(tmp_path, capsys, tweak, says):
    status, out, err = _matrix(capsys, matrix_file(tmp_path, tweak), "--json", "--timeout", "1")
    assert status == 2 and out == ""
    assert says in err.splitlines()[-1], err


def test_matrix_form_monkeypatching_derive_does_not_make_wrong_code_pass(tmp_path, capsys):
    top = ("import derive.check.user_code.compare as c\n"
           "c._close = lambda *a: True\n")
    tweak = "W = [2 * W[0], W[1]]"     # a wrong forward pass: every gradient off
    status, out, err = _matrix(capsys, matrix_file(tmp_path, tweak, top=top), "--json")
    assert status == 1 and json.loads(out)["agree"] is False


def test_matrix_form_prints_do_not_reach_the_json(tmp_path, capsys):
    tweak = 'import os; os.write(1, b"garbage on fd 1\\n"); print("and a print")'
    status, out, err = _matrix(capsys, matrix_file(tmp_path, tweak), "--json")
    assert status == 0 and json.loads(out)["agree"] is True and "and a print" in err


def test_matrix_form_shape_clash_still_names_the_orientation(tmp_path, capsys):
    spec = Path(MAZUR).parent / "multiclass_2_2_3.toml"      # W2 is 3×2: in_out passes it as 2×3, a clash
    status = main(["check-code", str(spec), f"{matrix_file(tmp_path)}:grads", "--form", "matrices",
                   "--orientation", "in_out"])
    out, err = capsys.readouterr()
    assert status == 2 and out == "" and "pass --orientation out_in" in err.splitlines()[-1]
    assert "---- the traceback of your code" in err and "derive/check" not in err


@pytest.mark.parametrize("tweak", [
    "return [object(), object()], None",
    "return {'a': 1}, None",
    "return 1.0, 2.0",
    "return (w for w in W), None",
    "return [[[1, 2], [3]], None], None",
    "return [np.full((2, 2), np.nan), W[1]], None",
    "return [np.zeros((3, 2)), W[1]], None",
    "return ['ab', 'cd'], None",
])
def test_a_contained_matrix_function_fails_as_it_does_in_process(tmp_path, capsys, tweak):
    """What the function returns is read in the child exactly as in process: the same one line."""
    path = matrix_file(tmp_path, tweak)
    status, out, err = _matrix(capsys, path, "--json")
    with pytest.raises(UserCodeError) as in_process:
        derive.check_gradients(derive.load(MAZUR), load_function(f"{path}:grads"), form="matrices")
    assert status == 2 and out == "" and err.splitlines()[-1] == f"derive: {in_process.value}"
