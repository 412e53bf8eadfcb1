"""The HTTP sessions this process calls other services with: the provider's, the issuer's.

aiohttp, not httpx: a discovery's two calls to the provider, answers parsed,
cost 3.7 ms of the event loop's CPU through httpx (its models, httpcore, anyio
and h11) and 1.9 ms through aiohttp (its C parser, no anyio), measured against
`bench/fake_provider.py`; every request on the loop waits for that time.
"""

from __future__ import annotations

import aiohttp

__all__ = ["OutboundSession"]


class OutboundSession:
    """An aiohttp session with a pool of its own, made on first use and closed with the app.

    aiohttp ties a session to the event loop running when it is made, and the
    app is built before its loop runs, so the session waits for its first call.
    Cookies are not kept: the services called authenticate every call with a
    header, and a jar would only carry one call's state into the next. Each
    call sets its own deadline (the provider's within its discovery's budget).
    """

    def __init__(self, *, connections: int) -> None:
        self.connections = connections
        self._session: aiohttp.ClientSession | None = None

    def __call__(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self.connections),
                cookie_jar=aiohttp.DummyCookieJar(),
            )
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
