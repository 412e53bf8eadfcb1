"""`onboarding-api`: serve, migrate, export the schema, report deprecations, mint tokens,
import the catalog.

Each command imports what it needs when it runs. This module is the console
script's, so every worker of `serve --workers N` imports it again (uvicorn
starts workers with multiprocessing's "spawn") before it can answer the
supervisor's health check: importing the app, the schema or Alembic here would
put seconds of CPU between a worker's start and its first answer.
"""

from __future__ import annotations

import logging
import sys
import textwrap
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from pydantic import ValidationError

    from discovery import CatalogEntry

logger = logging.getLogger(__name__)
HEADER_DEADLINE_PROTOCOL = "app.header_deadline:HeaderDeadlineProtocol"
WEBSOCKET_PROTOCOL = "app.websocket_protocol:UTF8CheckingWebSocketProtocol"


class _SettingsErrorsAsMessages(click.Group):
    """Ends any command whose configuration is invalid with what is wrong, not a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except Exception as error:
            from pydantic import ValidationError

            if not isinstance(error, ValidationError) or error.title != "Settings":
                raise
            raise click.ClickException(_configuration_problems(error)) from None


def _configuration_problems(error: ValidationError) -> str:
    lines = ["invalid configuration:"]
    for problem in error.errors():
        message = problem["msg"].removeprefix("Value error, ")
        if problem["loc"]:
            name = str(problem["loc"][0]).upper()
            if name != "EXA_API_KEY":
                name = f"ONBOARDING_{name}"
            message = f"{name}: {message}"
        lines.append(textwrap.indent(message, "  "))
    return "\n".join(lines)


@click.group(cls=_SettingsErrorsAsMessages)
def main() -> None:
    """The onboarding GraphQL API. Configured by ONBOARDING_* environment variables."""


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=1, show_default=True, type=click.IntRange(min=1))
@click.option(
    "--access-log/--no-access-log",
    default=True,
    show_default=True,
    help="Log a line per request (benchmarks turn it off for every app they compare).",
)
def serve(host: str, port: int, workers: int, access_log: bool) -> None:
    """Migrate the database, then serve GraphQL at /graphql.

    On SIGTERM or Ctrl-C the server stops accepting connections, lets the
    requests in flight finish (at most ONBOARDING_SHUTDOWN_GRACE_SECONDS), hands
    discovery jobs still running back for another process, then closes the
    database pool. A connection whose request headers take longer than
    ONBOARDING_HEADER_READ_TIMEOUT_SECONDS is closed (its body has
    ONBOARDING_BODY_READ_TIMEOUT_SECONDS). Every line on standard error is a
    JSON log record. With several workers, their metrics go to one fresh
    directory and any scrape reads the total. A WebSocket message longer than
    ONBOARDING_WEBSOCKET_MAX_MESSAGE_BYTES is refused unread (close 1009).
    """
    import logging.config
    import math
    from contextlib import nullcontext

    import uvicorn

    from app.logging_config import logging_config
    from app.multiprocess_metrics import multiprocess_metrics
    from app.settings import get_settings
    from app.supervisor import WorkerSupervisor
    from auth import DevIssuer
    from db.migrate import upgrade

    log_config = logging_config()
    logging.config.dictConfig(log_config)
    settings = get_settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    upgrade(settings.resolved_database_url)
    if settings.uses_dev_issuer:
        # Made before the workers start so they all load the same key pair.
        DevIssuer.load_or_create(settings.data_dir)
        logger.info(
            "Development issuer: get a token with `onboarding-api dev-token --sub USER`;"
            " GraphiQL at http://%s:%s/graphql",
            host,
            port,
        )
    on_sqlite = settings.resolved_database_url.startswith("sqlite")
    if workers > 1 and settings.subscriptions and on_sqlite:
        logger.warning(
            "SQLite has no cross-process notifications: a subscriber sees only the changes"
            " made through its own worker; use PostgreSQL, or one worker"
        )
    # One worker is one process, whose own registry is the total; several share a directory.
    metrics = multiprocess_metrics(settings.metrics_dir) if workers > 1 else nullcontext()
    with metrics:
        options: dict[str, Any] = dict(
            factory=True,
            host=host,
            port=port,
            workers=workers,
            # uvicorn takes whole seconds; rounding up keeps the grace above the budget.
            timeout_graceful_shutdown=math.ceil(settings.shutdown_grace_seconds),
            # Named, not imported: each worker imports it after it answers uvicorn's
            # health checks (a class would be unpickled, and imported, before).
            http=HEADER_DEADLINE_PROTOCOL,
            timeout_worker_healthcheck=settings.worker_healthcheck_timeout_seconds,
            log_config=log_config,
            access_log=access_log,
            ws=WEBSOCKET_PROTOCOL,
            # A longer WebSocket message is refused by the server (close 1009) unread.
            ws_max_size=settings.websocket_max_message_bytes,
        )
        if workers == 1:
            uvicorn.run("app.factory:create_app", **options)
            return
        config = uvicorn.Config("app.factory:create_app", **options)
        WorkerSupervisor(config, sockets=[config.bind_socket()]).run()


@main.command()
def migrate() -> None:
    """Apply every migration not yet applied (safe to run again, and at once from many hosts)."""
    from app.settings import get_settings
    from db.migrate import upgrade

    settings = get_settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    upgrade(settings.resolved_database_url)
    click.echo("database is up to date", err=True)


@main.command("export-schema")
@click.argument("path", required=False, type=click.Path(dir_okay=False, path_type=Path))
def export_schema(path: Path | None) -> None:
    """Write the SDL to PATH (or standard output)."""
    from schema import schema_sdl

    sdl = schema_sdl()
    if path is None:
        sys.stdout.write(sdl)
    else:
        path.write_text(sdl, encoding="utf-8")


@main.command()
@click.option(
    "--since",
    default="30d",
    show_default=True,
    help="How far back: `Nd` (the last N days and today, UTC) or an ISO date.",
)
def deprecations(since: str) -> None:
    """Print each deprecated coordinate with its clients, uses and last use, from the database.

    Counts authenticated requests of every process and replica that wrote to
    the database; a running service writes what it counted every
    ONBOARDING_DEPRECATED_USAGE_FLUSH_SECONDS and when it stops.
    """
    import asyncio
    from datetime import UTC, datetime

    from sqlalchemy.exc import DBAPIError

    from app.deprecation_report import first_day, format_report, usage_since
    from app.settings import get_settings
    from schema import schema_deprecations

    try:
        day = first_day(since, datetime.now(UTC).date())
    except ValueError:
        raise click.BadParameter("use `30d` or an ISO date", param_hint="--since") from None
    settings = get_settings()
    try:
        usage = asyncio.run(usage_since(settings.resolved_database_url, day))
    except DBAPIError as error:
        raise click.ClickException(
            f"could not read deprecated usage ({type(error.orig).__name__}); "
            "is the database reachable and migrated (`onboarding-api migrate`)?"
        ) from None
    click.echo(format_report(schema_deprecations(), usage, day))


@main.command("dev-token")
@click.option("--sub", required=True, help="The user id the token names.")
@click.option("--email", default=None, help="An email claim to include.")
@click.option(
    "--ttl",
    default=3600,
    show_default=True,
    type=click.IntRange(min=1),
    help="Lifetime in seconds.",
)
def dev_token(sub: str, email: str | None, ttl: int) -> None:
    """Print a token signed by the development issuer."""
    from app.settings import get_settings
    from auth import DevIssuer

    settings = get_settings()
    if not settings.uses_dev_issuer:
        raise click.ClickException(
            "dev-token works only with the development issuer (ONBOARDING_JWKS_URL is set)"
        )
    issuer = DevIssuer.load_or_create(settings.data_dir)
    click.echo(issuer.mint(sub, email=email, ttl=timedelta(seconds=ttl)))


@main.group()
def catalog() -> None:
    """The offline competitor catalog the `catalog` provider ranks."""


async def _import_entries(database_url: str, entries: list[CatalogEntry]) -> None:
    from db.engine import create_engine
    from db.timeouts import MAINTENANCE_TIMEOUTS
    from resolvers.catalog import import_catalog

    engine = create_engine(database_url, MAINTENANCE_TIMEOUTS)
    try:
        await import_catalog(engine, entries)
    finally:
        await engine.dispose()


@catalog.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def catalog_import(file: Path) -> None:
    """Add or replace catalog entries from FILE (JSON Lines).

    Each line: {"url", "name", "description", "industry", "social": {"facebook",
    "twitter", "instagram", "linkedin", "youtube", "tiktok"}}. An entry for a
    domain already in the catalog replaces it. Nothing is imported if any line
    is invalid.
    """
    from app.settings import get_settings
    from db.migrate import upgrade
    from discovery import CatalogFormatError, parse_catalog_lines

    try:
        with file.open(encoding="utf-8") as handle:
            entries = parse_catalog_lines(handle)
    except CatalogFormatError as error:
        raise click.ClickException(f"{file}: {error}; nothing was imported") from None
    except UnicodeDecodeError:
        raise click.ClickException(f"{file}: not UTF-8 text; nothing was imported") from None
    settings = get_settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    upgrade(settings.resolved_database_url)
    import asyncio

    asyncio.run(_import_entries(settings.resolved_database_url, entries))
    click.echo(f"imported {len(entries)} catalog entries from {file}", err=True)


if __name__ == "__main__":  # after every command is defined: `python -m app.cli catalog import`
    main()
