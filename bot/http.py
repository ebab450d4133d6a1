"""Bot API calls over aiohttp: python-telegram-bot's request contract (`BaseRequest`) with a
fraction of httpx's CPU per call.

A button press costs the bot two Bot API calls (its share of `getUpdates`, and the answer);
through httpx, httpcore and anyio those were about 40 % of the bot's CPU in a burst (see
docs/benchmarks.md). aiohttp, already the bot's web server, parses HTTP in C.

The contract is httpx's in `telegram.request.HTTPXRequest`: the status and the body are
returned as they are (python-telegram-bot turns them into results and errors), a timeout is
`TimedOut`, any other failure to get an answer is `NetworkError`.
"""

from __future__ import annotations

import logging

import aiohttp
from telegram._utils.defaultvalue import DefaultValue
from telegram._utils.types import ODVInput
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

log = logging.getLogger(__name__)

# python-telegram-bot's own defaults (HTTPXRequest), in seconds.
READ_TIMEOUT = 5.0
WRITE_TIMEOUT = 5.0
CONNECT_TIMEOUT = 5.0
POOL_TIMEOUT = 1.0
MEDIA_WRITE_TIMEOUT = 20.0


class AiohttpRequest(BaseRequest):
    """One aiohttp session (created by `initialize`) with at most `connection_pool_size`
    connections to the Bot API."""

    def __init__(self, connection_pool_size: int = 256) -> None:
        self._pool_size = connection_pool_size
        self._session: aiohttp.ClientSession | None = None

    @property
    def read_timeout(self) -> float | None:
        return READ_TIMEOUT

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._pool_size),
                headers={"User-Agent": self.USER_AGENT},
            )

    async def shutdown(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        if self._session is None or self._session.closed:
            raise RuntimeError("This AiohttpRequest is not initialized!")
        files = request_data.multipart_data if request_data is not None else None
        fields = request_data.json_parameters if request_data is not None else None
        read = _given(read_timeout, READ_TIMEOUT)
        write = _given(write_timeout, MEDIA_WRITE_TIMEOUT if files else WRITE_TIMEOUT)
        # aiohttp's `connect` covers waiting for a free pooled connection and connecting.
        connect = _sum(_given(pool_timeout, POOL_TIMEOUT), _given(connect_timeout, CONNECT_TIMEOUT))
        timeout = aiohttp.ClientTimeout(
            total=None,
            connect=connect,
            sock_connect=_given(connect_timeout, CONNECT_TIMEOUT),
            # Sending the body and waiting for the answer: the write and read budgets.
            sock_read=_sum(read, write),
        )
        data: aiohttp.FormData | dict[str, str] | None = fields
        if files:
            # Unquoted field values: a file named 台账.xlsx arrives named so (as with httpx).
            data = aiohttp.FormData(quote_fields=False)
            for name, value in (fields or {}).items():
                data.add_field(name, value)
            for name, (filename, content, mimetype) in files.items():
                data.add_field(name, content, filename=filename, content_type=mimetype)
        try:
            async with self._session.request(method, url, data=data, timeout=timeout) as answer:
                body = await answer.read()
        except TimeoutError as exc:
            raise TimedOut from exc
        except (aiohttp.ClientError, OSError) as exc:
            raise NetworkError(f"aiohttp.{type(exc).__name__}: {exc}") from exc
        # The URL holds the token: bot.logs redacts it from every record.
        log.debug("%s %s: %s", method, url, answer.status)
        return answer.status, body


def _given(value: ODVInput[float], default: float) -> float | None:
    return default if isinstance(value, DefaultValue) else value


def _sum(*values: float | None) -> float | None:
    """Timeouts added up; None (no limit) if any is."""
    return None if any(v is None for v in values) else sum(v for v in values if v is not None)
