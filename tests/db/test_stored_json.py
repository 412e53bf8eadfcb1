"""A stored JSON document reads back as `json.loads` reads it, whoever wrote or reads it."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from db.stored_json import dumps_stored_json, loads_stored_json


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
