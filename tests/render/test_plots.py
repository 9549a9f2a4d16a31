"""Pictures: --plot paths are checked before any work, and a written PNG is a real PNG."""

import subprocess
import sys

import pytest

from derive.errors import OptionError
from derive.render.plots import check_png_path


def run(*args):
    return subprocess.run([sys.executable, "-m", "derive", *map(str, args)], capture_output=True, text=True)


@pytest.mark.parametrize("command", [
    ["train", "seven_1_1.toml"],
    ["sweep", "seven_1_1.toml", "--lr", "0.1,0.2"],
    ["fit", "file001_dual_layer.toml"],
])
@pytest.mark.parametrize("plot, message", [("missing_dir/losses.png", "existing directory"),
                                           ("losses.pdf", "ending in .png")])
def test_bad_plot_path_is_one_line_before_any_work(examples, tmp_path, command, plot, message):
    name, spec, *rest = command
    done = run(name, examples / spec, *rest, "--plot", tmp_path / plot)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.count("\n") == 1 and message in done.stderr and "--plot" in done.stderr


def test_check_png_path_accepts_a_png_in_an_existing_directory(tmp_path):
    assert check_png_path(tmp_path / "a.png") == tmp_path / "a.png"
    with pytest.raises(OptionError, match="ending in .png"):
        check_png_path(tmp_path / "a.svg")


def test_train_plot_writes_a_png(examples, tmp_path):
    pytest.importorskip("matplotlib")
    out = tmp_path / "losses.png"
    done = run("train", examples / "seven_1_1.toml", "--plot", out)
    assert done.returncode == 0, done.stderr
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
