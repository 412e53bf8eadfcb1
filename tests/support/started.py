"""A test server that a `with` block starts and closes."""

from __future__ import annotations

from typing import Self


class StartedByWith:
    """`with Server(...) as server:` calls start() and, on the way out, close()."""

    def start(self) -> None:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        """Closes whether the block ended normally or raised; never swallows the exception."""
        self.close()
