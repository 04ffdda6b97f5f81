"""Keeping long-lived objects out of Python's full garbage collections.

A full (generation 2) collection walks every tracked object. A national organisation
with its rota index is about 200,000 of them, and the pass takes around 100 ms, which
lands on whichever request happens to trigger it: the console's p99 (bench.console).
The objects of a loaded organisation live until the next version, so the long-running
processes move them to the collector's permanent generation once they are built.
"""

from __future__ import annotations

import gc


def settle() -> None:
    """Collect once (what an older version left in cycles included), then freeze every
    object alive now, so later full collections skip them. Costs one full pass."""
    gc.unfreeze()
    gc.collect()
    gc.freeze()
