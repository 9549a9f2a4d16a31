"""check-code runs the user's function in a child process (issue 14): whatever it does, derive ends with one
line and a non-zero status, never a pass, and its --json stays strict JSON. The in-process Python API
(derive.check_gradients with a plain function) is unchanged (tests/check/test_usercode.py)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

import reference
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
