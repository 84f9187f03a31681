"""Process tuning done once, after start-up has loaded everything: the cyclic
GC. A full collection pass over a heap with 100k scheduler jobs takes 100+ ms,
and it runs on whichever thread happens to allocate, the serving loop included."""

from __future__ import annotations

import gc

#: gen-0 threshold: allocations (minus frees) between young collections.
#: 700 (CPython's default) means one every few follow-ups during a burst; a
#: young pass costs about 1 us per object here, so 20,000 bounds it near
#: 15-20 ms (50,000 gave 27 ms passes inside the loop's longest stalls)
GEN0_THRESHOLD = 20_000
GEN1_THRESHOLD = 50
GEN2_THRESHOLD = 100


def tune_gc() -> None:
    """Move everything alive now (modules, policy, dialogs, rebuilt jobs) into
    the permanent generation, never scanned again, and collect young objects
    less often. Reference counting still frees most garbage at once; only
    cycles wait for the (rarer) passes. Idempotent: call it again after a
    large load to freeze the new long-lived objects too."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(GEN0_THRESHOLD, GEN1_THRESHOLD, GEN2_THRESHOLD)
