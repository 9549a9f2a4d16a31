"""The `derive` command line: a thin shell over the library. Each command lives in its own module.

    derive gradients SPEC [--json]      forward values, loss, gradients, one update
    derive chain SPEC PARAM [--json]    the chain-rule paths for one parameter
    derive check SPEC [--json] [--numeric [--richardson] [--dtype D]]
                                        printed hand values (and gradients) against exact ones
    derive check-code SPEC FILE.py:FUNC [--json] [--points N] [--rtol X]
                                        a user's gradient function against the derivation
    derive fit SPEC [SPEC ...] [--plot PNG] [--json]
                                        train on a data set (file 001), the notes' numbers checked
    derive latex SPEC [PARAM] [--steps chain,closed,numbers,update] [--digits N] [--sheet]
                                        LaTeX of a derivation as the notes write it, with numbers
    derive notes SPEC -o FILE.tex|FILE.md [--force] [--pdf]
                                        a whole document for lecture notes (pdflatex compiles it)
    derive exercise SPEC --students N --seed S -o DIR [--digits D]
                                        a problem sheet and worked solution per student, and key.json
    derive grade DIR/key.json ANSWERS.csv [--json]
                                        students' answers marked with follow-through (propagated)

Bad input (a malformed spec, an unknown name) prints one line and exits 2, never a traceback. Exit
statuses: 0 success, 1 a mismatch found (a check disagrees), 2 bad input, 3 a crash inside derive (an
exception that is not derive's own: a bug, or out of memory), 130 interrupted.
"""

from __future__ import annotations

import argparse
import sys
import traceback

from derive import __version__
from derive.errors import DeriveError, clip
from derive.cli import chain, check, check_code, exercise, fit, gradients, grade, latex, notes, sweep, train

__all__ = ["main"]

# exit statuses (README, docs/spec-format.md#exit-statuses)
OK, MISMATCH, BAD_INPUT, CRASH, INTERRUPTED = 0, 1, 2, 3, 130

MESSAGE_CHARS = 600   # an error line's length at most (values inside it are clipped to 80 characters already)

# one module per command: each has add_parser(subparsers) and run(args) -> exit status
COMMANDS = [gradients, chain, check, check_code, train, sweep, latex, notes, fit, exercise, grade]


class OneLineParser(argparse.ArgumentParser):
    """argparse with its usage errors in one line (`--epochs 1e9` is not a whole number), exit 2 as before;
    the line (which quotes the bad value) clipped and escaped like derive's own."""

    def error(self, message):
        self.exit(BAD_INPUT, f"{self.prog}: error: {clip(message, MESSAGE_CHARS)} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="derive", description="Check backpropagation by deriving it.")
    parser.add_argument("--version", action="version", version=f"derive {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in COMMANDS:
        command.add_parser(sub)
    for action in sub._choices_actions:          # each command's --help opens with its one-line summary
        page = sub.choices[action.dest]
        if not page.description and action.help:
            page.description = action.help[0].upper() + action.help[1:] + "."
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except DeriveError as exc:
        print(f"derive: {clip(str(exc), MESSAGE_CHARS)}", file=sys.stderr)   # one line, never a megabyte
        return BAD_INPUT
    except BrokenPipeError:
        return OK
    except KeyboardInterrupt:
        print("derive: interrupted", file=sys.stderr)
        return INTERRUPTED
    except MemoryError:
        print("derive: out of memory: the command needs more memory than this machine gives it (a smaller net, "
              "fewer epochs, copies or points)", file=sys.stderr)
        return CRASH
    except Exception as exc:    # a bug in derive: its traceback, for a report, then one line; never 1 or 2
        traceback.print_exc(file=sys.stderr)
        print(f"derive: internal error ({clip(f'{exc.__class__.__name__}: {exc}', 200)}): a bug in derive, "
              "not in your input; please report it with the spec and command", file=sys.stderr)
        return CRASH
