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


# --- a sweep's memory and its --json: campaign find, seed 12, case 889 (sweep of a 50-sample batch,
# 100,000 copies, --json: 40 s and 1.4 GB building 13 million numbers) -------------------------------

def batch_net(tmp_path: Path, samples: int) -> Path:
    """A 3-4-2 sigmoid batch spec with `samples` rows: 4 + 2 neurons, 26 parameters."""
    rows = [[0.1 * (i % 7), -0.2, 0.3] for i in range(samples)]
    text = "\n".join([
        "[network]", "layers = [3, 4, 2]", 'activations = ["sigmoid", "sigmoid"]', 'loss = "half_sse"',
        'bias = "per_neuron"', "[values]", f"inputs = {rows}", f"targets = {[[0.25, 0.75]] * samples}",
        f"weights = {[0.01] * 20}", f"biases = {[0.0] * 6}", "learning_rate = 0.1", ""])
    path = tmp_path / "batch.toml"
    path.write_text(text)
    return path


def one_line(capsys, argv) -> str:
    assert main([str(a) for a in argv]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1 and "Traceback" not in err, err
    return err


def test_a_sweep_too_big_to_hold_is_refused_before_it_allocates(capsys, tmp_path):
    from derive.core.limits import MAX_SWEEP_CELLS
    per_copy = 1_000 * (6 + 26)
    err = one_line(capsys, ["sweep", batch_net(tmp_path, 1_000), "--copies", 100_000, "--epochs", 1])
    assert f"at most {MAX_SWEEP_CELLS // per_copy:,} copies" in err and "--copies" in err


def test_a_sweeps_json_is_bounded_and_says_how_many_copies_fit(capsys, tmp_path):
    from derive.core.limits import MAX_JSON_NUMBERS
    per_copy = 4 + 26 + 2 * 50                      # lr, epochs run, stop, loss; parameters; outputs × samples
    err = one_line(capsys, ["sweep", batch_net(tmp_path, 50), "--copies", 100_000, "--epochs", 3, "--json"])
    assert f"at most {MAX_JSON_NUMBERS // per_copy:,} copies with --json" in err


def test_the_summary_of_many_copies_formats_only_the_rows_it_shows(capsys, monkeypatch):
    from derive.cli import sweep as sweep_cli
    formatted = []
    real = sweep_cli.number
    monkeypatch.setattr(sweep_cli, "number", lambda x, *a, **k: formatted.append(x) or real(x, *a, **k))
    assert main(["sweep", str(MAZUR), "--copies", "20000", "--epochs", "2"]) == 0
    out = capsys.readouterr().out
    assert "20000 copies in lock-step" in out and "19999" in out and "…" in out
    assert len(formatted) <= 60
