"""The root `Query` type."""

from __future__ import annotations

from typing import Annotated

import strawberry

from resolvers.onboarding import load_progress
from schema.context import Info
from schema.deprecation import session_id_argument
from schema.onboarding import (
    OnboardingProgress,
    OnboardingStep,
    progress_from_record,
    step_by_number,
)
from schema.viewer import Viewer


@strawberry.type(description="Read the viewer's onboarding.")
class Query:
    @strawberry.field(description="The authenticated user.")
    def viewer(self, info: Info) -> Viewer:
        return Viewer.from_user(info.context.require_viewer())

    @strawberry.field(description="The viewer's onboarding progress (same as `viewer.onboarding`).")
    async def onboarding_progress(
        self,
        info: Info,
        session_id: Annotated[str | None, session_id_argument] = None,
    ) -> OnboardingProgress:
        viewer = info.context.require_viewer()
        return progress_from_record(await load_progress(info.context.services, viewer.id))

    @strawberry.field(description="One of the viewer's steps by number; null if there is none.")
    async def onboarding_step(
        self,
        info: Info,
        number: Annotated[int, strawberry.argument(description="Step number, 1 to 6.")],
    ) -> OnboardingStep | None:
        viewer = info.context.require_viewer()
        progress = progress_from_record(await load_progress(info.context.services, viewer.id))
        return step_by_number(progress.steps, number)
