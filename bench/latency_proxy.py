"""A TCP proxy that makes a local API server look remote: every byte is held back for half
the round trip in each direction, so each request/response exchange costs one round trip
and each new TLS connection several, as on a cluster 20-100 ms away. Every tool in the
benchmark goes through the same proxy."""

from __future__ import annotations

import asyncio
import threading
import time
from types import TracebackType

CHUNK = 64 * 1024


class LatencyProxy:
    """``with LatencyProxy(host, port, rtt_ms=100) as proxy:`` listens on proxy.port."""

    def __init__(self, host: str, port: int, rtt_ms: float) -> None:
        self.target = (host, port)
        self.delay = rtt_ms / 2000  # one way, in seconds
        self.port = 0
        # perf_counter() of the first connection since the last reset(): a tool's start-up.
        self.first_connection: float | None = None
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="latency-proxy")

    def __enter__(self) -> LatencyProxy:
        self._thread.start()
        self._ready.wait(10)
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        asyncio.run_coroutine_threadsafe(self._cancel_connections(), self._loop).result(5)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)
        self._loop.close()

    def reset(self) -> None:
        self.first_connection = None

    async def _cancel_connections(self) -> None:
        tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        server = self._loop.run_until_complete(
            asyncio.start_server(self._connection, "127.0.0.1", 0)
        )
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        self._loop.run_forever()

    async def _connection(
        self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter
    ) -> None:
        if self.first_connection is None:
            self.first_connection = time.perf_counter()
        # Connecting costs a round trip too (the TCP handshake with a distant server).
        await asyncio.sleep(2 * self.delay)
        try:
            server_reader, server_writer = await asyncio.open_connection(*self.target)
        except OSError:
            client_writer.close()
            return
        pipes = asyncio.gather(
            self._pipe(client_reader, server_writer), self._pipe(server_reader, client_writer)
        )
        try:
            await pipes
        except asyncio.CancelledError:  # the proxy is closing: end quietly, not as an error
            pipes.cancel()
            client_writer.close()
            server_writer.close()

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Copy, each chunk delivered ``delay`` after it was read; order is kept because
        every chunk waits equally long."""
        loop = asyncio.get_running_loop()
        pending: list[asyncio.Future[None]] = []

        def deliver(data: bytes, done: asyncio.Future[None]) -> None:
            if not writer.is_closing():
                writer.write(data)
            done.set_result(None)

        try:
            while data := await reader.read(CHUNK):
                done = loop.create_future()
                loop.call_later(self.delay, deliver, data, done)
                pending.append(done)
                pending = [f for f in pending if not f.done()]
            await asyncio.gather(*pending)
            if writer.can_write_eof():
                writer.write_eof()
        except (ConnectionError, OSError):
            pass
        finally:
            if not pending:
                await asyncio.sleep(self.delay)
            writer.close()
