"""A TCP proxy in front of the database, to cut its connections and take it away on demand.

`cut()` is what `pg_terminate_backend` or a crashed server does to open connections;
`go_down()` also refuses new connections (a server restarting) until `come_back()`.
"""

from __future__ import annotations

import asyncio
import contextlib


class TcpProxy:
    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = 0
        self._server: asyncio.Server | None = None
        self._links: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> int:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]
        return self.port

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.close()
            return
        self._links.update((writer, up_writer))
        for source, sink in ((reader, up_writer), (up_reader, writer)):
            task = asyncio.create_task(self._pipe(source, sink))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _pipe(self, source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
        try:
            while data := await source.read(65536):
                sink.write(data)
                await sink.drain()
        except (OSError, asyncio.CancelledError):
            pass
        finally:
            self._links.discard(sink)
            with contextlib.suppress(OSError, RuntimeError):
                sink.close()

    @property
    def listening(self) -> bool:
        return self._server is not None

    def cut(self) -> int:
        """Drop every open connection, both ways; how many there were."""
        links = list(self._links)
        for writer in links:
            if writer.transport is not None:
                writer.transport.abort()
        self._links.clear()
        return len(links) // 2

    async def go_down(self) -> None:
        """Refuse new connections and drop the open ones (a server restarting)."""
        server, self._server = self._server, None
        if server is not None:
            server.close()
        self.cut()
        if server is not None:
            await server.wait_closed()

    async def come_back(self) -> None:
        await self.start()

    async def stop(self) -> None:
        await self.go_down()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
