"""Schemathesis against the live GraphQL schema: generated operations never make the server fail.

A real `onboarding-api serve` process with a valid token; every root field of
Query and Mutation is fuzzed round-robin until at least `TARGET` operations
have been sent. A failure is an HTTP 5xx or an error masked as
INTERNAL_SERVER_ERROR (an exception a resolver did not expect).
It runs with the rest of the suite (`-m "not fuzz"` skips it);
`ONBOARDING_FUZZ_OPERATIONS` changes the target.
"""

from __future__ import annotations

import os
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, seed, settings

from resolvers.secrets import SecretBox
from tests.support.jwks_server import DEFAULT_ISSUER, JWKSServer, SigningKey, mint
from tests.support.server_process import clean_environment, serve

TARGET = int(os.environ.get("ONBOARDING_FUZZ_OPERATIONS", "1000"))
EXAMPLES_PER_ROUND = 60
TIME_BUDGET_SECONDS = 240


@pytest.mark.fuzz
def test_generated_operations_never_get_a_server_error(
    tmp_path: Path, jwks_server: JWKSServer, signing_key: SigningKey
) -> None:
    # given the service as deployed, with a valid token for one user
    environment = clean_environment(
        {
            "ONBOARDING_DATA_DIR": str(tmp_path / "data"),
            "ONBOARDING_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'fuzz.sqlite3'}",
            "ONBOARDING_JWKS_URL": jwks_server.url,
            "ONBOARDING_JWT_ISSUER": DEFAULT_ISSUER,
            "ONBOARDING_SECRET_KEY": SecretBox.generate_key(),
            "ONBOARDING_COMPETITOR_PROVIDER": "catalog",
            "ONBOARDING_DISCOVERIES_PER_MINUTE": "1000000",
        }
    )
    token = mint(signing_key, sub="fuzz-user", exp=int(time.time()) + 3600)
    headers = {"authorization": f"Bearer {token}"}
    statuses: Counter[int] = Counter()
    failures: list[str] = []

    with serve(tmp_path, environment) as base_url:
        schema = schemathesis.graphql.from_url(f"{base_url}/graphql", headers=headers)
        operations = [result.ok() for result in schema.get_all_operations()]
        assert len(operations) == 12  # 7 queries (node and nodes among them) and 5 mutations

        def fuzz(operation: Any, round_number: int) -> None:
            @seed(round_number)
            @settings(
                max_examples=EXAMPLES_PER_ROUND,
                deadline=None,
                database=None,
                phases=[Phase.generate],
                suppress_health_check=list(HealthCheck),
            )
            @given(case=operation.as_strategy())
            def send(case: Any) -> None:
                # when a generated operation is sent
                response = case.call(base_url=base_url, headers=headers, timeout=30)
                statuses[response.status_code] += 1
                # then the server never fails on it
                if response.status_code >= 500 or "INTERNAL_SERVER_ERROR" in response.text:
                    failures.append(f"{response.status_code} {case.body!r}: {response.text[:300]}")

            send()

        started = time.monotonic()
        round_number = 0
        while sum(statuses.values()) < TARGET:
            assert time.monotonic() - started < TIME_BUDGET_SECONDS, statuses
            for operation in operations:
                fuzz(operation, round_number)
            round_number += 1

    total = sum(statuses.values())
    print(f"schemathesis: {total} operations, statuses {dict(statuses)}, {len(failures)} failures")
    assert total >= TARGET
    assert failures == []
