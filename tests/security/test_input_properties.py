"""Hypothesis: the URL normaliser and the step-data validators hold up against any input."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from discovery.errors import InvalidURLError
from discovery.urls import MAX_URL_LENGTH, normalise_url
from resolvers.json_input import MAX_JSON_BYTES
from resolvers.step_data import check_step_data

FUZZ = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])

SCHEMES = st.sampled_from(
    [
        "",
        "http://",
        "https://",
        "HTTPS://",
        "//",
        "ftp://",
        "javascript:",
        "data:",
        "file:///",
        "mailto:",
    ]
)
HOSTS = st.one_of(
    st.from_regex(r"[a-z0-9-]{1,20}(\.[a-z0-9-]{1,10}){0,3}", fullmatch=True),
    st.sampled_from(
        [
            "example.com",
            "xn--bcher-kva.de",
            "bücher.de",
            "127.0.0.1",
            "[::1]",
            "localhost",
            "a.b.co.uk",
            "user:pw@example.com",
        ]
    ),
    st.text(max_size=30),
)
TAILS = st.one_of(
    st.just(""),
    st.from_regex(r"(:[0-9]{0,6})?(/[^\s#?]{0,20})?(\?[^\s#]{0,10})?(#.{0,5})?", fullmatch=True),
    st.text(max_size=30),
)
URLISH = st.one_of(
    st.builds(lambda s, h, t: s + h + t, SCHEMES, HOSTS, TAILS), st.text(max_size=200)
)

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=20,
)
STEP_KEYS = st.sampled_from(
    ["apiKeys", "website", "competitors", "researchSummary", "gemini", "exa", "copilotkit"]
)
STEP_DATA = st.one_of(
    JSON_VALUES,
    st.dictionaries(STEP_KEYS, JSON_VALUES, max_size=4),
    st.builds(
        lambda keys: {"apiKeys": keys},
        st.dictionaries(
            st.sampled_from(["gemini", "exa", "copilotkit", "other"]),
            JSON_VALUES | st.text(),
            max_size=4,
        ),
    ),
)


@FUZZ
@given(raw=URLISH)
def test_normalise_url_returns_an_http_url_that_stays_as_it_is_or_the_documented_error(
    raw: str,
) -> None:
    # given any string a user might paste / when it is normalised
    try:
        normalised = normalise_url(raw)
    except InvalidURLError:
        return  # then either it is refused with the documented error
    # or the result is an http(s) URL with a host and no fragment, short enough
    assert normalised.url.startswith(("http://", "https://"))
    assert "#" not in normalised.url
    assert len(normalised.url) <= MAX_URL_LENGTH
    assert normalised.host
    assert normalised.registrable_domain
    assert normalised.url.split("/")[2].split(":")[0] == normalised.host
    assert normalised.host == normalised.host.lower()
    assert normalised.host.endswith(normalised.registrable_domain)
    # and normalising it again changes nothing
    assert normalise_url(normalised.url) == normalised


@FUZZ
@given(number=st.integers(min_value=1, max_value=6), data=STEP_DATA)
def test_step_data_problems_always_point_under_input_data(number: int, data: Any) -> None:
    # given any JSON a client may send as a step's data / when it is checked
    checked, problems = check_step_data(number, data)
    # then it never raises, and every problem is a VALIDATION_FAILED under ["input", "data"]
    for problem in problems:
        assert tuple(problem.field[:2]) == ("input", "data"), problem
        assert problem.code.value == "VALIDATION_FAILED"
        assert problem.message
    # and what may be shown back never carries a step-1 secret in the clear
    if number == 1 and isinstance(data, dict) and isinstance(data.get("apiKeys"), dict):
        shown = json.dumps(checked.public)
        for value in data["apiKeys"].values():
            if isinstance(value, str) and len(value.strip()) > 4:
                assert json.dumps(value.strip())[1:-1] not in shown


@settings(max_examples=30, deadline=None)
@given(number=st.integers(min_value=1, max_value=6), filler=st.text(min_size=1, max_size=3))
def test_step_data_over_the_size_limit_is_one_problem(number: int, filler: str) -> None:
    data = {
        "apiKeys": {},
        "website": "x",
        "blob": filler * (MAX_JSON_BYTES // len(filler) + 1),
    }
    _checked, problems = check_step_data(number, data)
    assert [tuple(problem.field) for problem in problems] == [("input", "data")]
