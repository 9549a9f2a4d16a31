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


# --- issue 11: zero and negative losses, log learning rates, titles in legends -----------------------

def _axes():
    plt = pytest.importorskip("matplotlib.pyplot")
    fig, ax = plt.subplots()
    return plt, fig, ax


def test_a_loss_of_exactly_zero_keeps_a_sane_log_axis():
    from derive.render.plots import loss_axis
    plt, fig, ax = _axes()
    losses = [0.5, 0.1, 0.01, 1e-3, 0.0, 0.0]            # a 1-1 ReLU net that fits exactly
    assert loss_axis(ax, range(6), losses) == "log"
    low, high = ax.get_ylim()
    assert 1e-6 < low < 1e-4 and high < 10                 # not 1e-300 … 1e13
    assert any("exactly 0" in str(l.get_label()) for l in ax.get_lines())
    plt.close(fig)


def test_a_negative_loss_gets_a_linear_axis():
    from derive.render.plots import loss_axis
    plt, fig, ax = _axes()
    assert loss_axis(ax, range(3), [0.2, -0.1, 0.05]) == "linear" and ax.get_yscale() == "linear"
    plt.close(fig)


def test_sweep_plots_learning_rates_on_a_log_axis():
    from types import SimpleNamespace
    from derive.render.plots import _log_lrs
    assert _log_lrs(SimpleNamespace(varied="lr", lrs=[0.005, 0.01, 0.05]))
    assert not _log_lrs(SimpleNamespace(varied="lr", lrs=[0.1, 0.2]))
    assert not _log_lrs(SimpleNamespace(varied="copies", lrs=[0.1, 0.1]))


def test_fit_legends_show_titles_not_file_names():
    from types import SimpleNamespace
    from derive.render.plots import fit_label
    titled = SimpleNamespace(spec=SimpleNamespace(title="Dual layer, Xavier init", source="x/file001_dual_layer.toml"))
    untitled = SimpleNamespace(spec=SimpleNamespace(title="", source="x/file001_random_init.toml"))
    assert fit_label(titled) == "Dual layer, Xavier init" and fit_label(untitled) == "file001_random_init"
