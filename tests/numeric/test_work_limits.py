"""A training run's length is bounded before it starts: epochs × the parameter updates of one epoch
(× samples for a batch, × copies for a sweep) within derive.core.limits' MAX_TRAIN_WORK / MAX_SWEEP_WORK,
else one line giving the most epochs the net may take, exit 2 (issue 14: every command in bounded time)."""

from __future__ import annotations

from pathlib import Path

from derive.cli import main
from derive.core.limits import MAX_SWEEP_WORK, MAX_TRAIN_WORK

EXAMPLES = Path(__file__).resolve().parents[2] / "worked_examples"
MAZUR = EXAMPLES / "mazur_2_2_2.toml"          # 8 weights trained (its 2 shared biases are not)
BATCH = EXAMPLES / "batches" / "batch_2_3_2.toml"   # 12 weights + 5 biases, 3 samples


def wide_net(tmp_path: Path, layers: list[int]) -> tuple[Path, int]:
    """A values spec with no biases: its path and its number of weights."""
    weights = sum(a * b for a, b in zip(layers, layers[1:]))
    text = "\n".join([
        "[network]", f"layers = {layers}", 'activations = ["sigmoid", "sigmoid"]', 'loss = "half_sse"',
        'bias = "none"', "[values]", f"inputs = {[0.5] * layers[0]}", f"targets = {[0.25] * layers[-1]}",
        f"weights = {[0.01] * weights}", "learning_rate = 0.1", ""])
    path = tmp_path / "wide.toml"
    path.write_text(text)
    return path, weights


def refused(capsys, argv, most: int) -> str:
    assert main([str(a) for a in argv]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1 and "Traceback" not in err, err
    assert f"at most {most:,} epochs" in err, err
    return err


def test_a_long_run_of_a_wide_net_is_refused_with_the_most_epochs_it_may_take(capsys, tmp_path):
    path, weights = wide_net(tmp_path, [10, 10, 10])          # 200 weights
    epochs = MAX_TRAIN_WORK // weights + 1
    err = refused(capsys, ["train", path, "--epochs", epochs], MAX_TRAIN_WORK // weights)
    assert "epochs" in err and str(path) in err


def test_a_run_within_the_limit_trains(capsys, tmp_path):
    path, _ = wide_net(tmp_path, [3, 3, 3])
    assert main(["train", str(path), "--epochs", "20"]) == 0
    assert "out_o1" in capsys.readouterr().out


def test_a_batch_counts_its_samples(capsys):
    per_epoch = (12 + 5) * 3
    refused(capsys, ["train", BATCH, "--epochs", MAX_TRAIN_WORK // per_epoch + 1], MAX_TRAIN_WORK // per_epoch)


def test_a_sweep_counts_its_copies(capsys):
    copies = 100_000
    per_epoch = 8 * copies
    epochs = MAX_SWEEP_WORK // per_epoch + 1
    refused(capsys, ["sweep", MAZUR, "--copies", copies, "--epochs", epochs], MAX_SWEEP_WORK // per_epoch)


def test_the_notes_run_is_far_inside_the_limit():
    """File 000's 10,000 iterations and the speed table's largest sweep (100,000 copies × 1,000) fit."""
    assert 10_000 * 8 <= MAX_TRAIN_WORK
    assert 1_000 * 8 * 100_000 <= MAX_SWEEP_WORK
