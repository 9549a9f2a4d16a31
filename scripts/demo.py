"""The main job: every worked example of the notes derived, checked and rendered into --out.

Each step runs the `derive` command line as a user would (its entry point, derive.cli.main, with the
step's arguments), shows what it printed, and keeps its output under --out; the job fails (exit 1) if
any step ends with another exit status than expected. The steps run in this one process: a fresh
interpreter per step spent most of the job importing sympy and numpy again (--subprocess: the old way).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from derive.cli import main as derive_main  # noqa: E402
WORKED = ROOT / "worked_examples"
EXAMPLES = sorted(WORKED.glob("*.toml"))

# The notes' own NumPy code checked as user code: (spec, FILE.py:FUNC, the exit status expected).
# Exit 1 is expected: derive finds file 000's class and file 001's MultiClassNetwork wrong.
CODE_CHECKS = [
    ("mazur_2_2_2.toml", "notes_000_neural_network.py:gradients", 1),
    ("mazur_2_2_2.toml", "notes_000_neural_network_fixed.py:gradients", 0),
    ("dual_layer_2_2_1.toml", "notes_001_dual_layer.py:gradients", 0),
    ("multiclass_2_2_3.toml", "notes_001_multiclass.py:gradients", 1),
]

Step = tuple[list[str], Path | None, int]   # derive's arguments, the file its stdout is kept in, exit expected


def steps(example: Path, out: Path) -> list[Step]:
    """The commands run for one example: a network spec is derived, checked, rendered and trained;
    a data-set spec ([data]) is fitted as file 001 does."""
    spec = tomllib.loads(example.read_text(encoding="utf-8"))
    stem, path = out / example.stem, str(example)
    if "data" in spec:
        return fit_steps(example, out)
    runs = [(["gradients", path], stem.with_suffix(".gradients.txt"), 0),
            (["gradients", path, "--json"], stem.with_suffix(".gradients.json"), 0)]
    if spec.get("hand"):
        runs.append((["check", path], stem.with_suffix(".check.txt"), 0))
    pdf = ["--pdf"] if shutil.which("pdflatex") else []
    runs += [(["notes", path, "-o", str(stem.with_suffix(".tex")), "--force", *pdf], None, 0),
             (["notes", path, "-o", str(stem.with_suffix(".md")), "--force"], None, 0)]
    if example.stem.startswith(("seven_", "mazur")):   # the notes' training loops (files 004, 000)
        runs += [(["train", path, "--plot", str(stem.with_suffix(".losses.png"))], stem.with_suffix(".train.txt"), 0),
                 (["train", path, "--json"], stem.with_suffix(".train.json"), 0)]
    if example.stem == "seven_1_1":                     # the notes' comparison of learning rates, as one sweep
        runs.append((["sweep", path, "--lr", "0.05,0.01,0.005", "--epochs", "2000",
                      "--plot", str(stem.with_suffix(".sweep.png"))], stem.with_suffix(".sweep.txt"), 0))
    return runs


def fit_steps(example: Path, out: Path) -> list[Step]:
    """Train as file 001 does and check the notes' numbers; the matrix-form notes (.tex, .pdf); loss curves as
    PNG (Dual vs Random together)."""
    stem, path = out / example.stem, str(example)
    pdf = ["--pdf"] if shutil.which("pdflatex") else []
    runs = [(["fit", path], stem.with_suffix(".fit.txt"), 0),
            (["fit", path, "--json"], stem.with_suffix(".fit.json"), 0),
            (["notes", path, "-o", str(stem.with_suffix(".tex")), "--force", *pdf], None, 0)]
    if example.stem == "file001_random_init":
        dual = str(example.with_name("file001_dual_layer.toml"))
        runs.append((["fit", dual, path, "--plot", str(out / "file001_dual_vs_random.png"), "--ymax", "0.6"], None, 0))
    if example.stem == "file001_digits_multiclass":
        runs.append((["fit", path, "--plot", str(stem.with_suffix(".losses.png"))], None, 0))
    return runs


def code_steps(out: Path) -> list[Step]:
    """`derive check-code` on the notes' code, each with its output file and expected exit status."""
    return [(["check-code", str(WORKED / spec), str(WORKED / target), "--points", "5"],
             out / f"{target.split('.')[0]}.check-code.txt", expect) for spec, target, expect in CODE_CHECKS]


def in_process(args: list[str]) -> subprocess.CompletedProcess:
    """derive.cli.main(args) with its stdout and stderr captured, as a finished process."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = derive_main(args)
        except SystemExit as stop:          # argparse's own exits (--help, usage errors)
            code = stop.code if isinstance(stop.code, int) else 1
    return subprocess.CompletedProcess(args, code, out.getvalue(), err.getvalue())


SEPARATE = False    # --subprocess: each step in a fresh interpreter


def run(args: list[str], keep: Path | None, expect: int = 0) -> bool:
    print(f"$ derive {' '.join(args)}" + (f"   (expected exit {expect})" if expect else ""), flush=True)
    if SEPARATE:
        done = subprocess.run([sys.executable, "-m", "derive", *args], capture_output=True, text=True)
    else:
        done = in_process(args)
    if keep is not None:
        keep.write_text(done.stdout)
    lines = done.stdout.splitlines()
    shown = lines if len(lines) <= 40 else lines[:40] + [f"… ({len(lines) - 40} more lines in {keep})"]
    print("\n".join(shown), flush=True)
    if done.returncode != expect:
        print(done.stderr, file=sys.stderr)
        print(f"FAILED (exit {done.returncode}, expected {expect}): derive {' '.join(args)}", file=sys.stderr)
    return done.returncode == expect


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=ROOT / "out")
    parser.add_argument("--subprocess", action="store_true", help="run each step in a fresh interpreter")
    options = parser.parse_args()
    global SEPARATE
    SEPARATE, out = options.subprocess, options.out
    out.mkdir(parents=True, exist_ok=True)
    all_steps = [s for example in EXAMPLES for s in steps(example, out)] + code_steps(out)
    failed = [args for args, keep, expect in all_steps if not run(args, keep, expect)]
    print(f"\n{len(EXAMPLES)} worked examples, {len(all_steps)} steps; outputs in {out}; {len(failed)} step(s) failed")
    for args in failed:
        print(f"  failed: derive {' '.join(args)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
