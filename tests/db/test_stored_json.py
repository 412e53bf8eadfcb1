"""A stored JSON document is written as the size caps count it, and reads back as `json.loads`
reads it, whoever wrote or reads it."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Text, cast, select, update

from db.engine import create_engine, write_transaction
from db.models import onboarding_steps
from db.progress_repository import create_progress
from db.stored_json import dumps_stored_json, encode_stored_json, loads_stored_json
from resolvers.steps import STEP_NUMBERS
from tests.support.stored_progress import STARTED


def _json_values(floats: st.SearchStrategy[float], text: st.SearchStrategy[str]) -> Any:
    return st.recursive(
        st.none()
        | st.booleans()
        | st.integers()
        | st.integers(min_value=2**63 - 2, max_value=2**70)
        | st.integers(min_value=-(2**70), max_value=-(2**63) + 2)
        | floats
        | text,
        lambda children: st.lists(children) | st.dictionaries(text, children),
        max_leaves=20,
    )


# What `json.dumps` may have written: integers of any size, every float (NaN and
# the infinities too), any text (lone surrogates included), nested.
_VALUES = _json_values(st.floats(), st.text())
# What the service may write: the same but the non-finite floats and the lone
# surrogates, which its edges refuse (app.request_json, resolvers.json_input).
_WRITABLE = _json_values(
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(st.characters(exclude_categories=["Cs"])),
)


def _exactly(value: Any) -> str:
    # `==` would take 1 for 1.0 and refuse NaN; the text written back tells both apart.
    return json.dumps(value)


@given(_VALUES, st.booleans())
def test_a_stored_document_reads_back_as_json_reads_it(value: Any, ensure_ascii: bool) -> None:
    # given a document as the database hands it back, as text (SQLite) or bytes (asyncpg)
    document = json.dumps(value, ensure_ascii=ensure_ascii)
    expected = _exactly(json.loads(document))
    # when it is read, then it is the value `json` reads, type for type and digit for digit
    assert _exactly(loads_stored_json(document)) == expected
    assert _exactly(loads_stored_json(document.encode("utf-8", "surrogatepass"))) == expected


def test_integers_past_64_bits_and_non_standard_numbers_keep_their_exact_values() -> None:
    assert loads_stored_json('{"n": 123456789012345678901234567890}') == {
        "n": 123456789012345678901234567890
    }
    assert loads_stored_json(b"[18446744073709551616, -9223372036854775809]") == [
        2**64,
        -(2**63) - 1,
    ]
    assert _exactly(loads_stored_json("[NaN, Infinity, -Infinity, 1e400]")) == (
        "[NaN, Infinity, -Infinity, Infinity]"
    )


@given(_WRITABLE)
def test_a_written_value_reads_back_as_it_did_when_json_wrote_it(value: Any) -> None:
    # given a value written as the engine writes JSON columns (orjson, json past 64 bits)
    document = dumps_stored_json(value)
    # when it is read, then it is what `json.dumps` then `json.loads` made of it
    expected = _exactly(json.loads(json.dumps(value)))
    assert _exactly(loads_stored_json(document)) == expected
    assert _exactly(loads_stored_json(document.encode())) == expected


async def test_a_json_column_holds_what_the_stored_size_counts(database_url: str) -> None:
    # given a step's data with text past ASCII, written in a write transaction as the
    # service writes it (on SQLite, on the driver; on PostgreSQL, on asyncpg)
    data = {"company": "Café Ünïcode ✓", "tags": ["a", "b"], "nested": {"n": 1}}
    step_one = (onboarding_steps.c.user_id == "json-user", onboarding_steps.c.number == 1)
    engine = create_engine(database_url)
    try:
        async with write_transaction(engine) as connection:
            await create_progress(connection, "json-user", STEP_NUMBERS, STARTED)
            await connection.execute(update(onboarding_steps).where(*step_one).values(data=data))
        # when the column is read as the database holds it
        async with engine.connect() as connection:
            stored = (
                await connection.execute(
                    select(cast(onboarding_steps.c.data, Text)).where(*step_one)
                )
            ).scalar_one()
    finally:
        await engine.dispose()
    # then it is the compact UTF-8 that the discovery size cap counts, on either database
    assert stored == encode_stored_json(data).decode()
