"""The `Node` interface of the Relay Global Object Identification spec.

Our own rather than `strawberry.relay.Node`: that one parses ids as `GlobalID`
arguments, so a malformed or unknown id is an error, where `node` must answer
null for those exactly as for an id that is not the viewer's.
"""

from __future__ import annotations

import strawberry

NODE_ID_DESCRIPTION = (
    "Opaque, stable global id: the same object always has the same id. Pass it to"
    " `node(id:)` to refetch the object."
)


@strawberry.interface(
    description=(
        "An object with an identity of its own: its `id` is global, opaque and stable,"
        " and `node(id:)` refetches it (Relay Global Object Identification)."
    )
)
class Node:
    id: strawberry.ID = strawberry.field(description=NODE_ID_DESCRIPTION)
