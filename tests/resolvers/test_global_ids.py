"""Global ids: each object has exactly one id, and decoding refuses every other string."""

from __future__ import annotations

import base64

import pytest

from resolvers.global_ids import (
    DiscoveryRef,
    ProgressRef,
    StepRef,
    discovery_global_id,
    discovery_key,
    parse_node_id,
    progress_global_id,
    step_global_id,
)

DISCOVERY = "0b7c5b0e-6a0e-4d1e-9f43-1d1a0b3c5e7f"


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


@pytest.mark.parametrize("user_id", ["user_2abc", "user:with:colons", "ünïcode", "x" * 255])
def test_progress_and_step_ids_round_trip_for_any_user_id(user_id: str) -> None:
    assert parse_node_id(progress_global_id(user_id)) == ProgressRef(user_id)
    for number in (1, 6, 12):
        assert parse_node_id(step_global_id(user_id, number)) == StepRef(user_id, number)


def test_discovery_ids_are_the_v1_ids() -> None:
    assert discovery_global_id(DISCOVERY) == b64(f"CompetitorDiscovery:{DISCOVERY}")
    assert parse_node_id(discovery_global_id(DISCOVERY)) == DiscoveryRef(DISCOVERY)
    assert discovery_key(discovery_global_id(DISCOVERY)) == DISCOVERY


def test_ids_are_the_same_every_time() -> None:
    assert progress_global_id("user_2abc") == progress_global_id("user_2abc")
    assert step_global_id("user_2abc", 3) == step_global_id("user_2abc", 3)
    assert progress_global_id("user_2abc") != progress_global_id("user_2abd")


@pytest.mark.parametrize(
    "global_id",
    [
        "",
        "not base64!",
        b64("CompetitorDiscovery:" + DISCOVERY).rstrip("="),  # another spelling of the same bytes
        b64("CompetitorDiscovery:" + DISCOVERY.upper()),  # a second id for one discovery
        b64("CompetitorDiscovery:42"),
        b64("OnboardingProgress:"),
        b64("OnboardingProgress:" + "x" * 256),
        b64("OnboardingStep:user_2abc:01"),
        b64("OnboardingStep:user_2abc:+1"),
        b64("OnboardingStep:user_2abc:٣"),
        b64("OnboardingStep:user_2abc:"),
        b64("OnboardingStep::1"),
        b64("Viewer:user_2abc"),
        b64(f"Competitor:{DISCOVERY}:etsy.com"),
        b64("cursor-like:2026-01-01T00:00:00+00:00|" + DISCOVERY),
        "QUFB" * 300,
    ],
)
def test_anything_but_an_id_we_gave_out_decodes_to_nothing(global_id: str) -> None:
    assert parse_node_id(global_id) is None
