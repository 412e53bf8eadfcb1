"""One request reads a user's progress once, however many of its fields ask at once."""

from __future__ import annotations

import asyncio

import pytest
from fastapi import FastAPI

from schema.loaders import ProgressByUser
from tests.support.statements import counted_statements


async def test_fields_asking_at_once_share_one_read(app: FastAPI) -> None:
    services = app.state.runtime.services
    # given what one field asking alone costs (a new user's: read, then created)
    with counted_statements(app) as alone:
        await ProgressByUser(services).load("user-alone")
    loader = ProgressByUser(services)
    # when three fields ask for another new user's progress at once, and one more after
    with counted_statements(app) as statements:
        first, second, third = await asyncio.gather(*(loader.load("user-a") for _ in range(3)))
        later = await loader.load("user-a")
    # then each got the one record read, for the statements of one
    assert first is second is third is later
    assert first.user_id == "user-a"
    assert len(statements) == len(alone), statements


@pytest.mark.postgresql_only
async def test_fields_asking_at_once_share_the_reads_error(app: FastAPI) -> None:
    loader = ProgressByUser(app.state.runtime.services)
    too_long = "u" * 300  # longer than a user id's column: PostgreSQL refuses to store it
    # when three fields ask for that user's progress at once, and one more after
    with counted_statements(app) as statements:
        answers = await asyncio.gather(
            *(loader.load(too_long) for _ in range(3)), return_exceptions=True
        )
        with pytest.raises(Exception, match="value too long") as later:
            await loader.load(too_long)
    # then every one of them got the database's one error, from one attempt to store it
    assert all(answer is later.value for answer in answers), answers
    inserts = [s for s in statements if s.lstrip().upper().startswith("INSERT")]
    assert len(inserts) == 1, statements
