"""Process-wide tuning for a server process, applied by the entry points (not by
``create_app``, which tests also call inside their own process).

CPython's cyclic garbage collector runs a full (generation 2) pass over every
tracked object once enough allocations survive. With 1,000 connections the heap
holds a few hundred thousand such objects and each full pass stopped the event
loop for 125–200 ms, several times a minute: that was the p99/p99.9 of message
delivery (docs/performance.md, "GC pauses"). Objects alive at startup (modules,
the app, SQLAlchemy and pydantic metadata) are moved out of the collector's view
with ``gc.freeze()``, and the thresholds are raised so full passes become rare.
Memory freed by reference counting (almost everything) is unaffected.
"""

from __future__ import annotations

import gc

__all__ = ["GC_THRESHOLDS", "tune_gc"]

# (generation 0 allocations, gen-0 passes per gen-1 pass, gen-1 passes per full pass);
# CPython's defaults are (700, 10, 10). Full passes stay as rare as with the first tuning,
# (50_000, 20, 100): one per 100 million allocations. But a generation-1 pass examines
# what survived its gen-0 passes, up to 20 x 50,000 objects there, and the stall log
# showed those passes stopping the loop for 235-306 ms while a large family registered
# (docs/performance.md, round 2); 5 x 20,000 bounded them to about a tenth. A gen-0 pass
# of 20,000 allocations still stopped the loop for 8-17 ms with 1,000 connections (once a
# second at 250 msg/s: a delivery tail of its own); passes of 2,000 take 0.4-2.4 ms, and
# 50 of them per gen-1 pass keep gen-1 and full passes exactly as rare as before
# (eleventh session, docs/performance.md).
GC_THRESHOLDS = (2_000, 50, 1_000)


def tune_gc() -> None:
    """Freeze what exists now and make full collections rare; call once the app is built."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)
