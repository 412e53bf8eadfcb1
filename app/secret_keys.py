"""Where the key for secrets at rest comes from."""

from __future__ import annotations

import os
from pathlib import Path

from app.settings import Settings
from resolvers.secrets import SecretBox

DEV_SECRET_KEY_FILE = "dev-secret.key"  # noqa: S105  a file name, not a secret


def _load_or_create_dev_key(data_dir: Path) -> str:
    path = data_dir / DEV_SECRET_KEY_FILE
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        candidate = path.with_name(f".{path.name}.{os.getpid()}")
        fd = os.open(candidate, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(SecretBox.generate_key())
        try:
            # link() fails if another process got there first; its key wins for both.
            os.link(candidate, path)
        except FileExistsError:
            pass
        finally:
            candidate.unlink()
    return path.read_text().strip()


def secret_box_for(settings: Settings) -> SecretBox:
    """The configured key(s), comma-separated, newest first; in development one is made."""
    if settings.secret_key is not None:
        keys = [key.strip() for key in settings.secret_key.get_secret_value().split(",")]
        return SecretBox([key for key in keys if key])
    return SecretBox([_load_or_create_dev_key(settings.data_dir)])
