"""Keep the cyclic garbage collector out of the way of requests being served.

Python's collector walks every tracked object of the oldest generation on a
full collection. A worker holds a few hundred thousand such objects that live
as long as it does (modules, the Strawberry and graphql-core schema, the
SQLAlchemy metadata, the JWKS). With that heap to walk, a full collection
stopped the event loop for 100 to 180 ms, which was the whole p99 of a small
query. Freezing what exists once the app has started moves it out of every
later collection (`gc.freeze`, as CPython's documentation suggests for
servers), so a full collection walks only what requests made.

Requests leave no cyclic garbage (tests/app/test_request_garbage.py), so a
young collection finds nothing to free; it only moves the objects of the
requests in flight into an older generation, for the middle and full
collections to walk again. At CPython's default threshold (700 more tracked
objects made than freed) sixteen progress requests in flight started one every
few requests: in 13 s of bench.run's onboardingProgress on PostgreSQL (about
21,000 requests), 3,761 young, 342 middle and 30 full collections, 0.68 s of the
loop stopped, 5 % of the worker's CPU, more than the same run made at
`YOUNG_GENERATION_THRESHOLD`. A young generation that large holds what is in
flight, and garbage a rare path leaves in cycles is still collected once that
many objects have built up.
"""

from __future__ import annotations

import gc

__all__ = ["YOUNG_GENERATION_THRESHOLD", "freeze_startup_heap", "thaw_heap"]

YOUNG_GENERATION_THRESHOLD = 10_000

CollectorThresholds = tuple[int, int, int]


def freeze_startup_heap() -> CollectorThresholds:
    """Collect once, leave every object alive now out of all later collections,
    and let the young generation hold the requests in flight.

    Returns the collector's thresholds as they were, for `thaw_heap`.
    """
    gc.collect()
    gc.freeze()
    before = gc.get_threshold()
    gc.set_threshold(YOUNG_GENERATION_THRESHOLD, before[1], before[2])
    return before


def thaw_heap(thresholds: CollectorThresholds) -> None:
    """Give the frozen objects back to the collector and its thresholds back, as the app stops.

    A process that starts several apps (tests) would otherwise keep every
    stopped app's cycles frozen, and never free them.
    """
    gc.set_threshold(*thresholds)
    gc.unfreeze()
