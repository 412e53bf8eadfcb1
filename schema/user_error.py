"""The one `UserError` type and `UserErrorCode` enum every mutation reports problems with."""

from __future__ import annotations

import strawberry

from resolvers.errors import Problem
from schema.enums import ErrorCode


@strawberry.type(
    description=(
        "A problem with the input of a mutation (nothing was changed by it), or why a"
        " competitor discovery failed. A value of its payload or discovery, with no"
        " identity of its own."
    )
)
class UserError:
    field: list[str] | None = strawberry.field(
        description=(
            "Path from the mutation's arguments to the offending value, e.g."
            ' ["input", "data", "apiKeys", "gemini"]; null when no one field is at fault.'
        )
    )
    message: str = strawberry.field(description="What is wrong, for a person to read.")
    code: ErrorCode = strawberry.field(description="What is wrong, for a program to switch on.")

    @classmethod
    def from_problem(cls, problem: Problem) -> UserError:
        return cls(
            field=list(problem.field) if problem.field is not None else None,
            message=problem.message,
            code=problem.code,
        )


def user_errors(problems: tuple[Problem, ...]) -> list[UserError]:
    return [UserError.from_problem(problem) for problem in problems]
