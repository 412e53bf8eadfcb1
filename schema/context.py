"""The per-request GraphQL context: who is asking, and the services to answer with."""

from __future__ import annotations

from collections.abc import Callable
from functools import cached_property
from typing import Concatenate, ParamSpec, TypeAlias, TypeVar

import strawberry
from graphql import GraphQLError
from strawberry.fastapi import BaseContext

from auth import AuthenticatedUser
from resolvers.services import Services
from schema.loaders import DiscoveryByIdLoader, ProgressByUser

UNAUTHENTICATED = "UNAUTHENTICATED"

Arguments = ParamSpec("Arguments")
Result = TypeVar("Result")


class GraphQLContext(BaseContext):
    def __init__(
        self,
        *,
        viewer: AuthenticatedUser | None,
        services: Services,
        client_name: str,
        request_id: str | None = None,
    ) -> None:
        super().__init__()
        self.viewer = viewer
        self.services = services
        self.client_name = client_name
        self.request_id = request_id
        # One context per request, so these caches live exactly as long as the request.
        self.progress_by_user = ProgressByUser(services)
        # What execution reports for the HTTP edge to announce and count.
        self.deprecated_coordinates: frozenset[str] = frozenset()

    @cached_property
    def discovery_by_id(self) -> DiscoveryByIdLoader:
        # Made by the first request that asks: most never do.
        return DiscoveryByIdLoader(self.services)

    def note_deprecated_usage(self, coordinates: frozenset[str]) -> None:
        """The operation used these deprecated fields, arguments or input fields."""
        self.deprecated_coordinates |= coordinates

    def require_viewer(self) -> AuthenticatedUser:
        """The verified user, or the UNAUTHENTICATED error every user field answers."""
        if self.viewer is None:
            raise GraphQLError(
                "Authentication required: send 'Authorization: Bearer <token>'.",
                extensions={"code": UNAUTHENTICATED},
            )
        return self.viewer

    def as_viewer(
        self,
        rule: Callable[Concatenate[Services, str, Arguments], Result],
        *args: Arguments.args,
        **kwargs: Arguments.kwargs,
    ) -> Result:
        """`rule(services, user_id, ...)` for the verified user, or the UNAUTHENTICATED error."""
        return rule(self.services, self.require_viewer().id, *args, **kwargs)


Info: TypeAlias = strawberry.Info[GraphQLContext, None]
