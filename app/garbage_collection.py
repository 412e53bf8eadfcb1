"""Keep the cyclic garbage collector's full collections short while requests are served.

Python's collector walks every tracked object of the oldest generation on a
full collection. A worker holds a few hundred thousand such objects that live
as long as it does (modules, the Strawberry and graphql-core schema, the
SQLAlchemy metadata, the JWKS); requests leave some garbage in reference
cycles (graphql-core's executor, DataLoader batches), so full collections
come every few seconds under load, and each walked the whole heap: 100 to
180 ms with the event loop stopped, which was the whole p99 of a small query.
Freezing what exists once the app has started moves it out of every later
collection (`gc.freeze`, as CPython's documentation suggests for servers),
so a full collection walks only what requests made.
"""

from __future__ import annotations

import gc

__all__ = ["freeze_startup_heap", "thaw_heap"]


def freeze_startup_heap() -> None:
    """Collect once, then leave every object alive now out of all later collections."""
    gc.collect()
    gc.freeze()


def thaw_heap() -> None:
    """Give the frozen objects back to the collector, as the app stops.

    A process that starts several apps (tests) would otherwise keep every
    stopped app's cycles frozen, and never free them.
    """
    gc.unfreeze()
