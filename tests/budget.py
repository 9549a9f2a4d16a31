"""How many examples the slow property tests draw: their full count under the hypothesis profile `full`
(DERIVE_FULL=1, or pytest --hypothesis-profile=full), a quarter of it (at least 5) under the default
profile `quick`, which `make test` runs. The properties asserted are the same; only the draws are fewer."""

from __future__ import annotations

from hypothesis import settings

FULL_PROFILE_EXAMPLES = 100        # the `full` profile's max_examples (hypothesis' own default)


def full() -> bool:
    """Whether the full counts were asked for (the profile loaded by conftest.py or --hypothesis-profile)."""
    return settings().max_examples >= FULL_PROFILE_EXAMPLES


def draws(count: int) -> int:
    """`count` under the full profile, else a quarter of it (at least 5, never more than `count`)."""
    return count if full() else min(count, max(5, count // 4))
