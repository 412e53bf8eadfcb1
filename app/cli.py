"""`onboarding-api`: serve, migrate, export the schema, mint development tokens."""

from __future__ import annotations

import sys
from datetime import timedelta
from pathlib import Path

import click
import uvicorn

from app.settings import get_settings
from auth import DevIssuer
from db.migrate import upgrade
from schema import schema_sdl


@click.group()
def main() -> None:
    """The onboarding GraphQL API. Configured by ONBOARDING_* environment variables."""


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=1, show_default=True, type=click.IntRange(min=1))
def serve(host: str, port: int, workers: int) -> None:
    """Migrate the database, then serve GraphQL at /graphql."""
    settings = get_settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    upgrade(settings.resolved_database_url)
    if settings.uses_dev_issuer:
        # Made before the workers start so they all load the same key pair.
        DevIssuer.load_or_create(settings.data_dir)
        click.echo(
            f"Development issuer: get a token with `onboarding-api dev-token --sub USER`;"
            f" GraphiQL at http://{host}:{port}/graphql",
            err=True,
        )
    uvicorn.run(
        "app.factory:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        timeout_graceful_shutdown=20,
    )


@main.command()
def migrate() -> None:
    """Apply every migration not yet applied (safe to run again)."""
    settings = get_settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    upgrade(settings.resolved_database_url)
    click.echo("database is up to date", err=True)


@main.command("export-schema")
@click.argument("path", required=False, type=click.Path(dir_okay=False, path_type=Path))
def export_schema(path: Path | None) -> None:
    """Write the SDL to PATH (or standard output)."""
    sdl = schema_sdl()
    if path is None:
        sys.stdout.write(sdl)
    else:
        path.write_text(sdl, encoding="utf-8")


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
    settings = get_settings()
    if not settings.uses_dev_issuer:
        raise click.ClickException(
            "dev-token works only with the development issuer (ONBOARDING_JWKS_URL is set)"
        )
    issuer = DevIssuer.load_or_create(settings.data_dir)
    click.echo(issuer.mint(sub, email=email, ttl=timedelta(seconds=ttl)))


if __name__ == "__main__":
    main()
