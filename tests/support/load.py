"""Time limits in tests, scaled for a loaded machine.

A limit in a test says "this does not hang" or "this is far quicker than the
alternative", never how fast nbrun is (bench/ measures that). On a busy 2-core
CI runner everything takes longer, so each limit is multiplied by
``NBRUN_TEST_TIME_SCALE`` (default 1, or 2 under ``CI``).
"""

from __future__ import annotations

import os


def _scale() -> float:
    given = os.environ.get("NBRUN_TEST_TIME_SCALE")
    if given:
        return max(1.0, float(given))
    return 2.0 if os.environ.get("CI") else 1.0


TIME_SCALE = _scale()


def within(seconds: float) -> float:
    """*seconds* scaled for the machine's load: use it for every deadline and upper bound in a test."""
    return seconds * TIME_SCALE
