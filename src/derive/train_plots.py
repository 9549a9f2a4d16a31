"""PNG pictures of training: the loss curve of one run, and a sweep's epochs-to-stop and final loss.

matplotlib is an optional extra (`pip install 'derive[plot]'`), imported only here and only when asked.
"""

from __future__ import annotations

import numpy as np

from .errors import NotSupported

__all__ = ["plot_losses", "plot_sweep"]


def _pyplot():
    try:
        import matplotlib
    except ImportError:
        raise NotSupported("--plot needs matplotlib: pip install 'derive[plot]' (or pip install matplotlib)") from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def plot_losses(result, path, title: str = "") -> None:
    """The loss of every epoch (log scale), the stop marked where the run stopped."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 4.2), dpi=110)
    losses = np.asarray(result.losses, dtype=float)
    epochs = np.arange(len(losses))
    ax.semilogy(epochs, np.maximum(losses, np.finfo(float).tiny), lw=1.6, color="C0", label="loss E (before the update)")
    if result.stopped_at_epoch is not None:
        ax.axvline(result.stopped_at_epoch, color="C3", ls="--", lw=1,
                   label=f"stopped at epoch {result.stopped_at_epoch}")
    ax.set_xlabel("epoch (from 0)")
    ax.set_ylabel("loss (log scale)")
    ax.set_title(title or "training loss")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def plot_sweep(result, path, title: str = "") -> None:
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
    bottom.semilogy(x, np.maximum(result.loss.astype(float), np.finfo(float).tiny), ".", color="C2")
    bottom.set_ylabel("final loss (log scale)")
    bottom.set_xlabel("learning rate" if result.varied == "lr" else "copy")
    bottom.grid(True, which="both", alpha=0.3)
    top.set_title(title or "sweep")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
