"""Progress reporting for long work (building, ingesting, sending digests).

The store reports through a plain callable so it stays free of any UI; the CLI draws it.
"""

from __future__ import annotations

from collections.abc import Callable

# progress(stage, done, total): e.g. ("extracting", 3, 5). total == 0 means unknown.
ProgressFn = Callable[[str, int, int], None]


def no_progress(_stage: str, _done: int, _total: int) -> None:
    return None
