"""The onboarding use cases: load the viewer's progress, apply a rule, store the result.

Each change is one transaction guarded by the progress version. A change that
loses the race is re-run on fresh data, so concurrent requests of one user
(from any number of processes) never overwrite each other.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import datetime

from db.discovery_repository import delete_discoveries
from db.engine import Transaction, write_transaction
from db.progress_repository import (
    StaleProgressError,
    create_progress,
    get_progress,
    read_progress,
    save_progress,
)
from db.records import ProgressRecord
from resolvers import rules
from resolvers.changes import discoveries_deleted, progress_topic
from resolvers.discovery import research_step_input
from resolvers.errors import ConflictError, Problem, RuleViolationError
from resolvers.services import Services
from resolvers.step_data import check_step_data
from resolvers.steps import STEP_NUMBERS, step_definition

MAX_ATTEMPTS = 12

Decision = tuple[ProgressRecord, tuple[Problem, ...]]
AlsoInTransaction = Callable[[Transaction], Awaitable[object]]


@dataclass(frozen=True, slots=True)
class Outcome:
    """The viewer's progress after the request, and what was wrong with it, if anything."""

    progress: ProgressRecord
    problems: tuple[Problem, ...] = ()
    # Stored ids of the discoveries the change deleted (a hard reset), for clients to evict.
    deleted_discovery_ids: tuple[str, ...] = ()

    @property
    def succeeded(self) -> bool:
        return not self.problems


async def _load_or_create(connection: Transaction, user_id: str, now: datetime) -> ProgressRecord:
    progress = await get_progress(connection, user_id)
    if progress is None:
        await create_progress(connection, user_id, STEP_NUMBERS, now)
        progress = await get_progress(connection, user_id)
        assert progress is not None, "the row was just created in this transaction"
    return progress


async def load_progress(services: Services, user_id: str) -> ProgressRecord:
    """The user's progress; a user seen for the first time gets a fresh one."""
    progress = await read_progress(services.reads, user_id)
    if progress is not None:
        return progress
    async with write_transaction(services.engine) as connection:
        return await _load_or_create(connection, user_id, services.clock())


async def _change(
    services: Services,
    user_id: str,
    decide: Callable[[ProgressRecord, datetime], Decision],
    *,
    also: AlsoInTransaction | None = None,
) -> Outcome:
    for attempt in range(MAX_ATTEMPTS):
        try:
            async with write_transaction(services.engine) as connection:
                before = await _load_or_create(connection, user_id, services.clock())
                # Read the clock after the row: a change committed by another
                # process before this read then always has an earlier updatedAt,
                # so updatedAt grows with the version.
                now = services.clock()
                try:
                    after, problems = decide(before, now)
                except RuleViolationError as violation:
                    return Outcome(before, violation.problems)
                if also is not None:
                    await also(connection)
                if after == before:
                    return Outcome(before, problems)
                await save_progress(connection, before, after)
                await services.changes.announce_on_commit(connection, progress_topic(user_id))
            services.changes.deliver(progress_topic(user_id))
            return Outcome(replace(after, version=before.version + 1), problems)
        except StaleProgressError:
            # Back off with jitter so the writers that collided do not collide again.
            await asyncio.sleep(random.uniform(0, 0.002 * 2**attempt))  # noqa: S311
    return Outcome(await load_progress(services, user_id), ConflictError().problems)


async def complete_step(
    services: Services,
    user_id: str,
    number: int,
    data: object,
    discovery_id: str | None = None,
) -> Outcome:
    """Complete step `number` with `data`, or (step 3) with one of the user's discoveries."""
    discovery_problem: Problem | None = None
    if discovery_id is not None:
        data, discovery_problem = await research_step_input(
            services, user_id, number, data, discovery_id
        )
    checked, problems = check_step_data(number, data) if step_definition(number) else (None, [])

    def decide(progress: ProgressRecord, now: datetime) -> Decision:
        rules.check_step_can_be_completed(progress, number)
        if discovery_problem is not None:
            raise RuleViolationError([discovery_problem])
        if problems:
            messages = tuple(problem.message for problem in problems)
            return rules.record_failed_attempt(progress, number, messages, now), tuple(problems)
        assert checked is not None
        sealed = services.secret_box.seal(checked.secrets) if checked.secrets else None
        completed = rules.complete_step(
            progress, number, data=checked.public, encrypted_secrets=sealed, now=now
        )
        return completed, ()

    return await _change(services, user_id, decide)


async def skip_step(services: Services, user_id: str, number: int) -> Outcome:
    return await _change(
        services, user_id, lambda progress, now: (rules.skip_step(progress, number, now), ())
    )


async def complete_onboarding(services: Services, user_id: str) -> Outcome:
    return await _change(
        services, user_id, lambda progress, now: (rules.complete_onboarding(progress, now), ())
    )


async def reset_onboarding(services: Services, user_id: str, *, hard: bool = False) -> Outcome:
    """Start over; `hard` also deletes the user's discoveries, in the same transaction."""

    deleted: list[str] = []

    async def delete_user_discoveries(connection: Transaction) -> object:
        # Replaced on every attempt: only the attempt that commits counts.
        deleted[:] = await delete_discoveries(connection, user_id)
        return deleted

    outcome = await _change(
        services,
        user_id,
        lambda progress, now: (rules.reset(progress, now), ()),
        also=delete_user_discoveries if hard else None,
    )
    if not outcome.succeeded:
        return outcome
    await discoveries_deleted(services, deleted)
    return replace(outcome, deleted_discovery_ids=tuple(deleted))
