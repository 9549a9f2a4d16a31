"""The README's examples run: every `$ derive …` line exits 0 and prints the lines shown under it."""

import re
import shlex
import subprocess
import sys

import pytest

from conftest import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")


def console_examples():
    """(command, the output lines shown under it) for every `$ derive` line of a console block."""
    examples = []
    for block in re.findall(r"```console\n(.*?)```", README, re.S):
        for chunk in re.split(r"^\$ ", block, flags=re.M)[1:]:
            command, *shown = chunk.rstrip("\n").split("\n")
            command = command.split("  #")[0].strip()
            examples.append((command, [line.rstrip() for line in shown if line.strip() not in ("", "...")]))
    return examples


@pytest.mark.parametrize("command, shown", console_examples(), ids=lambda x: x if isinstance(x, str) else "")
def test_console_example_runs_and_prints_what_the_readme_shows(command, shown):
    args = shlex.split(command)
    assert args[0] == "derive"
    done = subprocess.run([sys.executable, "-m", "derive", *args[1:]], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    printed = [line.rstrip() for line in done.stdout.splitlines()]
    for line in shown:
        assert line in printed, f"README shows {line!r}, derive printed:\n{done.stdout}"


def test_python_example_runs():
    block = re.search(r"From Python:\n\n```python\n(.*?)```", README, re.S).group(1)
    namespace = {}
    exec(compile(block, "README.md", "exec"), namespace)   # the README's own code, not a spec
    net, d = namespace["net"], namespace["d"]
    assert net.gradients()["w5"] == pytest.approx(0.082167040564, abs=1e-12)   # NOTES-DIGEST.md, file 000
    assert len(d.paths) == 2 and all(len(p) == 5 for p in d.paths)
    assert all(p.holds and p.method == "structural" for p in d.prove().values())
