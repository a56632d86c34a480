"""Model choice values inside SQL text: taken from the models' TextChoices, never typed as literals.

A value that goes through a driver parameter is better still (queries/staffing.py does that); this helper is
for SQL composed once at import time (constants shared by several statements), where a parameter would have
to be threaded through every caller.
"""

from __future__ import annotations

import re

_SAFE = re.compile(r"[a-z_]+")


def literal(value: str) -> str:
    """``'published'`` for GridStatus.PUBLISHED; refuses anything but a plain lower-case word.

    >>> literal("published")
    "'published'"
    """
    if not _SAFE.fullmatch(str(value)):
        raise ValueError(f"not a choice value: {value!r}")
    return f"'{value}'"
