"""PNG pictures of training: a run's loss curve, a sweep's epochs-to-stop and final loss, and the
loss curves of data-set fits (the notes' Dual vs Random figure).

matplotlib is an optional extra (`pip install 'derive[plot]'`), imported only here and only when asked.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np

from derive.errors import OptionError, shown
from derive.extras import require
from derive.render.output import check_output, written

__all__ = ["check_png_path", "plain", "plot_losses", "plot_sweep", "plot_fits", "loss_axis", "fit_label"]


def check_png_path(path, force: bool = False) -> Path:
    """Fail before any work (nothing lost) when a picture could not be written where asked: not a .png,
    an existing file without force, a link, a directory, a missing directory (derive.render.output)."""
    path = Path(path)
    if path.suffix.lower() != ".png":
        raise OptionError(f"--plot: expected a file name ending in .png, got {shown(str(path))}")
    return check_output(path, force, "--plot")


def plain(text: str) -> str:
    """User text (a title, a file name) as matplotlib shows it literally: every $ escaped, so its math-text
    parser never reads `$\\undefined$` (which would raise) or turns a title into formulas."""
    return str(text).replace("$", r"\$")


def _pyplot():
    require("matplotlib", "matplotlib", "plot").use("Agg")
    return require("matplotlib.pyplot", "matplotlib", "plot")


def _save(fig, path, force: bool = False) -> None:
    """The figure as a PNG, atomically (a temporary file beside it, then os.replace)."""
    plt = _pyplot()
    try:
        with written(path, force, "--plot") as tmp:
            fig.savefig(tmp, format="png")
    finally:
        plt.close(fig)


def loss_axis(ax, x, losses, label: str = "", **style) -> str:
    """Losses on a log axis where they are all positive; a loss of exactly 0 (a ReLU net that fits) marked
    at the axis' floor instead of squashing it to 1e-300; any negative loss: a linear axis. Returns the scale."""
    x, losses = np.asarray(x), np.asarray(losses, dtype=float)
    positive = losses > 0
    if (losses < 0).any() or not positive.any():
        ax.plot(x, losses, label=label, **style)
        return "linear"
    if positive.sum() < 3:
        style.setdefault("marker", "o")       # one or two positive losses: points, not an invisible line
    ax.semilogy(x[positive], losses[positive], label=label, **style)
    low = losses[positive].min()
    if not positive.all():
        floor = low / 10
        ax.plot(x[~positive], np.full((~positive).sum(), floor), "v", color="C3", ms=4,
                label=f"loss exactly 0 (drawn at {floor:.1e})")
        ax.set_ylim(bottom=floor / 3)
    return "log"


def fit_label(result) -> str:
    """A fit's name in a legend: its spec's title, the file name only where it has none."""
    return result.spec.title or (Path(result.spec.source).stem if result.spec.source else "fit")


def plot_losses(result, path, title: str = "", force: bool = False) -> None:
    """The loss of every epoch (log scale), the stop marked where the run stopped."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 4.2), dpi=110)
    losses = np.asarray(result.losses, dtype=float)
    epochs = np.arange(len(losses))
    scale = loss_axis(ax, epochs, losses, "loss E (before the update)", lw=1.6, color="C0")
    if result.stopped_at_epoch is not None:
        ax.axvline(result.stopped_at_epoch, color="C3", ls="--", lw=1,
                   label=f"stopped at epoch {result.stopped_at_epoch}")
    ax.set_xlabel("epoch (from 0)")
    ax.set_ylabel(f"loss ({scale} scale)")
    ax.set_title(plain(title or "training loss"))
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    _save(fig, path, force)


def plot_sweep(result, path, title: str = "", force: bool = False) -> None:
    """Per copy: epochs to stop (copies that never stopped drawn at the epoch limit) and final loss."""
    plt = _pyplot()
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(7, 6), dpi=110, sharex=True)
    x = result.lrs if result.varied == "lr" else np.arange(result.copies)
    stopped = result.stopped_at_epoch >= 0
    ran = np.where(stopped, result.stopped_at_epoch, result.epochs)
    top.plot(x[stopped], ran[stopped], ".", color="C0", label="stopped (loss below the limit)")
    top.plot(x[~stopped], ran[~stopped], "x", color="C3", label="did not stop")
    if result.copies <= 12:
        for xk, rk in zip(x, ran):
            top.annotate(str(int(rk)), (xk, rk), textcoords="offset points", xytext=(4, 4), fontsize=8)
    top.set_ylabel("epochs to stop")
    if ran.min() > 0 and ran.max() / ran.min() > 50:
        top.set_yscale("log")
    top.legend()
    top.grid(True, alpha=0.3)
    scale = loss_axis(bottom, x, result.loss.astype(float), "final loss", marker=".", ls="-", color="C2")
    bottom.set_ylabel(f"final loss ({scale} scale)")
    bottom.set_xlabel("learning rate (log scale)" if _log_lrs(result) else
                      "learning rate" if result.varied == "lr" else "copy")
    if _log_lrs(result):
        bottom.set_xscale("log")
    bottom.legend(fontsize=8)
    bottom.grid(True, which="both", alpha=0.3)
    top.set_title(plain(title or "sweep"))
    fig.tight_layout()
    _save(fig, path, force)


def _log_lrs(result) -> bool:
    """A sweep over learning rates spanning more than a factor of 3 reads on a log axis."""
    if result.varied != "lr":
        return False
    lrs = np.asarray(result.lrs, dtype=float)
    return bool((lrs > 0).all() and lrs.max() / lrs.min() > 3)


def plot_fits(results, path, ymax: float | None = None, force: bool = False) -> None:
    """Loss per epoch of data-set fits, one curve per spec (the notes' Dual vs Random figure)."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 4.5), dpi=110)
    for r in results:
        ax.plot(range(len(r.losses)), r.losses, label=plain(textwrap.fill(fit_label(r), 60)), linewidth=1.5)
    ax.set_xlabel("epoch")
    ax.set_ylabel(f"loss ({results[0].spec.fit.report_loss} over samples)")
    ax.set_ylim(0, ymax)
    title = results[0].spec.title if len(results) == 1 else "loss per epoch"
    ax.set_title(plain(textwrap.fill(title, 80)), fontsize=9)
    ax.legend()
    ax.grid(alpha=0.3)
    fig.tight_layout()
    _save(fig, path, force)
