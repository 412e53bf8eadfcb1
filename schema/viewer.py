"""`Viewer`: the authenticated user, as the verified token describes them."""

from __future__ import annotations

import strawberry

from auth import AuthenticatedUser
from schema.context import Info
from schema.onboarding import OnboardingProgress, progress_from_record


@strawberry.type(description="The user the bearer token names. There is no other way to be one.")
class Viewer:
    id: strawberry.ID = strawberry.field(
        description=(
            "The user id: the token's `sub`, unchanged since v1. Not a `Node` id (`node`"
            " does not answer it): `viewer` always refetches the viewer, as Relay does for"
            " a type named `Viewer`."
        )
    )
    email: str | None = strawberry.field(description="The token's `email` claim, if any.")
    first_name: str | None = strawberry.field(description="The token's first/given name, if any.")
    last_name: str | None = strawberry.field(description="The token's last/family name, if any.")

    @strawberry.field(description="The viewer's onboarding progress.")
    async def onboarding(self, info: Info) -> OnboardingProgress:
        record = await info.context.progress_by_user.load(str(self.id))
        return progress_from_record(record)

    @classmethod
    def from_user(cls, user: AuthenticatedUser) -> Viewer:
        return cls(
            id=strawberry.ID(user.id),
            email=user.email,
            first_name=user.first_name,
            last_name=user.last_name,
        )
