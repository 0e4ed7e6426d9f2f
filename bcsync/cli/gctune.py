"""Garbage-collector tuning for big Business Centers (an edge concern: the CLI calls it once).

Building and diffing a BC at TikTok's limits allocates a few hundred thousand long-lived objects
(grants, keys, changes). With CPython's default generation-0 threshold of 700 the collector
rescans them hundreds of times; a threshold of 10,000 cuts plan time by about a fifth
(tests/benchmarks/plan_core.py) and changes nothing else: bcsync creates few reference cycles.
"""

from __future__ import annotations

import gc

GEN0_THRESHOLD = 10_000


def tune_gc() -> None:
    """Raise the generation-0 threshold, keeping the older generations' ratios."""
    _, gen1, gen2 = gc.get_threshold()
    gc.set_threshold(GEN0_THRESHOLD, gen1, gen2)
