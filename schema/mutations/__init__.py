"""The root `Mutation` type: one file per mutation, gathered here."""

from __future__ import annotations

import strawberry

from schema.mutations.complete_onboarding import complete_onboarding
from schema.mutations.complete_onboarding_step import complete_onboarding_step
from schema.mutations.discover_competitors import discover_competitors_mutation
from schema.mutations.reset_onboarding import reset_onboarding
from schema.mutations.skip_onboarding_step import skip_onboarding_step


@strawberry.type(description="Change the viewer's onboarding.")
class Mutation:
    discover_competitors = strawberry.mutation(
        resolver=discover_competitors_mutation,
        description=(
            "Find the competitors of a site and store the result for the viewer; an identical"
            " request within 24 hours answers the stored result unless `refresh` is true, and"
            " one made while an identical discovery is under way joins it (same id, one"
            " provider call)."
        ),
    )
    complete_onboarding_step = strawberry.mutation(
        resolver=complete_onboarding_step,
        description="Complete a step with its data (or replace the data of a completed step).",
    )
    skip_onboarding_step = strawberry.mutation(
        resolver=skip_onboarding_step, description="Skip an optional step."
    )
    complete_onboarding = strawberry.mutation(
        resolver=complete_onboarding, description="Finish onboarding once steps 1 to 5 are done."
    )
    reset_onboarding = strawberry.mutation(
        resolver=reset_onboarding,
        description=(
            "Set every step back to PENDING, keeping none of the old data;"
            " `hard: true` also deletes the viewer's competitor discoveries."
        ),
    )


__all__ = ["Mutation"]
