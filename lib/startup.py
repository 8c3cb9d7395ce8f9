"""A server process's startup: load what every request needs, then keep it out of the
garbage collector's full passes.

Django, Wagtail and the URL conf leave about 280,000 objects that live as long as the
process. Python's full (generation 2) collection walks every one of them: about 150 ms on a
small machine, a stall of every request the worker holds. It runs whenever enough new
long-lived objects pile up, which the per-worker caches of a busy worker make frequent:
on the busiest endpoint the slowest 1% of requests took 80 ms and more. Frozen
(``gc.freeze``), the startup objects are skipped by every collection, and workers forked
from a preloaded master share them without copying (the collector no longer writes to them).
"""

from __future__ import annotations

import gc


def settle() -> None:
    """Load the URL conf (otherwise loaded by the first request), collect, then freeze."""
    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018 (loading it is the point)
    gc.collect()
    gc.freeze()
