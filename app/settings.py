"""Service configuration, read from the environment (prefix ``ONBOARDING_``)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal, TypeVar
from urllib.parse import urlsplit

from pydantic import AliasChoices, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from db import timeouts
from db.timeouts import DatabaseTimeouts

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

Filled = TypeVar("Filled", bound="DataclassInstance")

# A duration longer than zero, which most of the service's waits and intervals are.
PositiveSeconds = Annotated[float, Field(gt=0)]


def _split_commas(value: object) -> object:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


class Settings(BaseSettings):
    """Everything the service can be told; defaults are the embedded development setup."""

    model_config = SettingsConfigDict(env_prefix="ONBOARDING_", extra="ignore")

    env: Literal["development", "production"] = "development"
    data_dir: Path = Path(".onboarding")
    database_url: str | None = None

    jwks_url: str | None = None
    jwt_issuer: str | None = None
    jwt_audience: str | None = None
    authorized_parties: Annotated[list[str], NoDecode] = Field(default_factory=list)
    jwt_leeway_seconds: float = Field(default=60, ge=0, le=600)
    jwks_refresh_seconds: PositiveSeconds = 300
    jwks_unknown_kid_cooldown_seconds: float = Field(default=30, ge=0)

    secret_key: SecretStr | None = None

    competitor_provider: Literal["exa", "catalog"] | None = None
    exa_api_key: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("EXA_API_KEY", "ONBOARDING_EXA_API_KEY")
    )
    exa_base_url: str = "https://api.exa.ai"
    provider_timeout_seconds: PositiveSeconds = 30
    discoveries_per_minute: int = Field(default=10, ge=1)
    # Discovery jobs (resolvers/discovery_jobs.py): provider calls at once, per user
    # and across every instance; the lease a process holds a job by, how often every
    # process sweeps for expired ones, how often a waiting request polls another
    # process's job, and how many provider attempts a job gets in all.
    discoveries_running_per_user: int = Field(default=3, ge=1)
    discoveries_running_total: int = Field(default=25, ge=1)
    discovery_lease_seconds: float = Field(default=15, ge=1)
    discovery_sweep_seconds: PositiveSeconds = 5
    discovery_poll_seconds: PositiveSeconds = 0.5
    discovery_max_attempts: int = Field(default=2, ge=1)
    # After SIGTERM, requests in flight get `shutdown_grace_seconds` to finish; a
    # request waiting for a discovery waits at most the provider's budget plus half
    # the margin, so the grace must hold the budget plus the margin.
    shutdown_grace_seconds: PositiveSeconds = 35
    shutdown_margin_seconds: PositiveSeconds = 5

    # Subscriptions (graphql-transport-ws at /graphql, `app/subscriptions.py`), and the
    # bounds of the WebSocket connections they run on, per process: subscriptions per
    # connection, connections per user and in all, the wait for `connection_init`, and
    # the largest message a client may send.
    subscriptions: bool = True
    subscriptions_per_connection: int = Field(default=20, ge=1)
    websocket_connections_per_user: int = Field(default=10, ge=1)
    websocket_connections_total: int = Field(default=1000, ge=1)
    websocket_init_timeout_seconds: PositiveSeconds = 10
    websocket_max_message_bytes: int = Field(default=64 * 1024, ge=1024)

    graphiql: bool = True
    introspection: bool = True
    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)

    max_body_bytes: int = Field(default=1024 * 1024, gt=0)
    # Slow clients: a request's headers, then its body, must arrive within these.
    header_read_timeout_seconds: PositiveSeconds = 10
    body_read_timeout_seconds: PositiveSeconds = 30
    max_query_depth: int = Field(default=12, ge=1)
    max_aliases: int = Field(default=30, ge=0)
    max_tokens: int = Field(default=2000, ge=1)
    max_query_cost: int = Field(default=1000, ge=1)
    max_recursive_selections: int = Field(default=10_000, ge=1)
    overlapping_fields_budget: int = Field(default=20_000, ge=1)

    # Telemetry: metric labels from bounded sets.
    metrics_operation_names: Annotated[list[str], NoDecode] = Field(default_factory=list)
    metrics_max_operation_names: int = Field(default=100, ge=0)
    metrics_client_names: Annotated[list[str], NoDecode] = Field(default_factory=list)
    metrics_max_client_names: int = Field(default=20, ge=0)
    metrics_dir: Path | None = None
    document_cache_bytes: int = Field(default=16 * 1024 * 1024, ge=0)
    deprecated_usage_flush_seconds: PositiveSeconds = 10
    deprecation_sunset: datetime | None = None
    deprecation_link: str = "/SCHEMA_CHANGELOG.md"

    @field_validator("metrics_operation_names", "metrics_client_names", mode="before")
    @classmethod
    def _names_from_commas(cls, value: object) -> object:
        return _split_commas(value)

    # How long a request waits on the database before it is answered 503 (DatabaseTimeouts).
    database_connect_timeout_seconds: PositiveSeconds = timeouts.DEFAULT_CONNECT_SECONDS
    database_statement_timeout_seconds: PositiveSeconds = timeouts.DEFAULT_STATEMENT_SECONDS
    database_pool_timeout_seconds: PositiveSeconds = timeouts.DEFAULT_POOL_SECONDS
    # `serve --workers N`: how long a worker may take to answer the supervisor's
    # ping before it is killed and replaced; a new worker answers within about
    # 0.1 CPU-second of starting, long before the app is imported.
    worker_healthcheck_timeout_seconds: int = Field(default=10, ge=1)

    @model_validator(mode="before")
    @classmethod
    def _lists_from_commas(cls, values: object) -> object:
        if isinstance(values, dict):
            for name in ("authorized_parties", "cors_origins"):
                if name in values:
                    values[name] = _split_commas(values[name])
        return values

    @model_validator(mode="before")
    @classmethod
    def _production_hides_the_schema_by_default(cls, values: object) -> object:
        # GraphiQL and introspection are for developers; in production either
        # is on only when set explicitly.
        if isinstance(values, dict) and values.get("env") == "production":
            values.setdefault("graphiql", False)
            values.setdefault("introspection", False)
        return values

    @model_validator(mode="after")
    def _production_needs_real_issuer(self) -> Settings:
        if self.env == "production":
            problems = _production_problems(self)
            if problems:
                raise ValueError(
                    "production refuses to start:" + "".join(f"\n  - {p}" for p in problems)
                )
        return self

    @model_validator(mode="after")
    def _grace_holds_the_provider_budget(self) -> Settings:
        needed = self.provider_timeout_seconds + self.shutdown_margin_seconds
        if self.shutdown_grace_seconds < needed:
            raise ValueError(
                f"ONBOARDING_SHUTDOWN_GRACE_SECONDS ({self.shutdown_grace_seconds:g}) must be at"
                f" least ONBOARDING_PROVIDER_TIMEOUT_SECONDS ({self.provider_timeout_seconds:g})"
                f" + ONBOARDING_SHUTDOWN_MARGIN_SECONDS ({self.shutdown_margin_seconds:g}), so a"
                " request waiting for a discovery is answered before the grace ends"
            )
        return self

    def database_timeouts(self) -> DatabaseTimeouts:
        """The service's deadlines for its database (DESIGN §12, Timeouts)."""
        return DatabaseTimeouts(
            connect_seconds=self.database_connect_timeout_seconds,
            statement_seconds=self.database_statement_timeout_seconds,
            pool_seconds=self.database_pool_timeout_seconds,
        )

    def fill(self, kind: type[Filled], setting_of: Mapping[str, str] | None = None) -> Filled:
        """A `kind` (a dataclass) whose every field is the setting of the same name, or
        the one `setting_of` names for it (`{"max_depth": "max_query_depth"}`)."""
        setting_of = setting_of or {}
        names = [field.name for field in dataclasses.fields(kind)]
        if unknown := setting_of.keys() - set(names):
            raise TypeError(f"{kind.__name__} has no field {', '.join(sorted(unknown))}")
        return kind(**{name: getattr(self, setting_of.get(name, name)) for name in names})

    @property
    def uses_dev_issuer(self) -> bool:
        return self.jwks_url is None

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'onboarding.sqlite3').resolve()}"

    @property
    def resolved_competitor_provider(self) -> Literal["exa", "catalog"]:
        if self.competitor_provider is not None:
            return self.competitor_provider
        return "exa" if self.exa_api_key else "catalog"


def _production_problems(settings: Settings) -> list[str]:
    problems: list[str] = []
    missing = [
        name
        for name, value in (
            ("ONBOARDING_JWKS_URL", settings.jwks_url),
            ("ONBOARDING_JWT_ISSUER", settings.jwt_issuer),
            ("ONBOARDING_SECRET_KEY", settings.secret_key),
            ("ONBOARDING_DATABASE_URL", settings.database_url),
        )
        if not value
    ]
    if missing:
        problems.append(
            ", ".join(missing) + " must be set (the dev issuer, generated keys and"
            " the SQLite file in the data directory are for development only)"
        )
    if settings.jwks_url:
        url_problem = _jwks_url_problem(settings.jwks_url)
        if url_problem:
            problems.append(f"ONBOARDING_JWKS_URL {url_problem}")
    if not settings.jwt_audience and not settings.authorized_parties:
        problems.append(
            "ONBOARDING_JWT_AUDIENCE or ONBOARDING_AUTHORIZED_PARTIES must be set"
            " (otherwise tokens the issuer made for its other applications are accepted)"
        )
    return problems


def _jwks_url_problem(url: str) -> str | None:
    """Why `url` is no place to fetch signing keys from in production, or None."""
    if any(character.isspace() or not character.isprintable() for character in url):
        return "is not a well-formed URL (it contains spaces or control characters)"
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - parsing the port is what raises for a bad one
    except ValueError:
        return "is not a well-formed URL"
    if parts.scheme != "https":
        # Over plain HTTP anyone on the path could hand us their own keys.
        return "must be an https:// URL"
    if not parts.hostname:
        return "is not a well-formed URL (it has no host)"
    return None


@lru_cache
def get_settings() -> Settings:
    """The process's settings, read once from the environment when first asked for."""
    return Settings()
