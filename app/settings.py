"""Service configuration, read from the environment (prefix ``ONBOARDING_``)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AliasChoices, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from db import timeouts
from db.timeouts import DatabaseTimeouts
from schema.extensions.query_limits import QueryLimits


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
    jwks_refresh_seconds: float = Field(default=300, gt=0)
    jwks_unknown_kid_cooldown_seconds: float = Field(default=30, ge=0)

    secret_key: SecretStr | None = None

    competitor_provider: Literal["exa", "catalog"] | None = None
    exa_api_key: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("EXA_API_KEY", "ONBOARDING_EXA_API_KEY")
    )
    exa_base_url: str = "https://api.exa.ai"
    provider_timeout_seconds: float = Field(default=30, gt=0)
    discoveries_per_minute: int = Field(default=10, ge=1)

    graphiql: bool = True
    introspection: bool = True
    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)

    max_body_bytes: int = Field(default=1024 * 1024, gt=0)
    max_query_depth: int = Field(default=12, ge=1)
    max_aliases: int = Field(default=30, ge=0)
    max_tokens: int = Field(default=2000, ge=1)
    max_query_cost: int = Field(default=1000, ge=1)

    # How long a request waits on the database before it is answered 503 (DatabaseTimeouts).
    database_connect_timeout_seconds: float = Field(default=timeouts.DEFAULT_CONNECT_SECONDS, gt=0)
    database_statement_timeout_seconds: float = Field(
        default=timeouts.DEFAULT_STATEMENT_SECONDS, gt=0
    )
    database_pool_timeout_seconds: float = Field(default=timeouts.DEFAULT_POOL_SECONDS, gt=0)
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

    @model_validator(mode="after")
    def _production_needs_real_issuer(self) -> Settings:
        if self.env == "production":
            missing = [
                name
                for name, value in (
                    ("ONBOARDING_JWKS_URL", self.jwks_url),
                    ("ONBOARDING_JWT_ISSUER", self.jwt_issuer),
                    ("ONBOARDING_SECRET_KEY", self.secret_key),
                )
                if not value
            ]
            if missing:
                raise ValueError(
                    "production refuses to start without "
                    + ", ".join(missing)
                    + " (the dev issuer and generated keys are for development only)"
                )
        return self

    def query_limits(self) -> QueryLimits:
        """The GraphQL query limits (DESIGN §11) these settings ask for."""
        return QueryLimits(
            max_depth=self.max_query_depth,
            max_aliases=self.max_aliases,
            max_tokens=self.max_tokens,
            max_cost=self.max_query_cost,
        )

    def database_timeouts(self) -> DatabaseTimeouts:
        """The service's deadlines for its database (DESIGN §12, Timeouts)."""
        return DatabaseTimeouts(
            connect_seconds=self.database_connect_timeout_seconds,
            statement_seconds=self.database_statement_timeout_seconds,
            pool_seconds=self.database_pool_timeout_seconds,
        )

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


@lru_cache
def get_settings() -> Settings:
    """The process's settings, read once from the environment when first asked for."""
    return Settings()
