"""Run an ASGI app with uvicorn: blocking for the CLIs, in a background thread for tests."""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Any

import uvicorn

from mojacheck.server.logs import configure

STARTUP_DEADLINE_S = 10.0


async def read_body(receive: Callable[[], Awaitable[dict[str, Any]]]) -> bytes:
    """The whole request body of a plain ASGI app (one without a framework to do it)."""
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            return body


def serve(
    app: Any,
    host: str = "127.0.0.1",
    port: int = 8000,
    log_level: str = "warning",
    *,
    service: str = "mojacheck.server",
    describe: Callable[[str], str] | None = None,
) -> None:
    """Serve ``app`` until interrupted (uvicorn handles SIGINT/SIGTERM), logging to stderr at ``log_level``.

    Once the socket accepts connections, ``describe(url)`` (the real address, so ``port=0`` shows the port the
    system chose) is logged by ``<service>.start`` at every level: the one line a human reads to know where the
    service listens. uvicorn's own start-up chatter and access log stay off (ours replace them) unless at debug;
    its errors (a port in use) still come through, in our format.
    """
    configure(log_level, service)
    start_log = logging.getLogger(f"{service}.start")

    def announce(server: _Server) -> None:
        if describe is not None:
            start_log.info("%s", describe(server.url()))

    config = uvicorn.Config(app, host=host, port=port, log_config=None, access_log=False,
                            log_level="debug" if log_level.lower() == "debug" else "warning")
    _Server(config, on_ready=announce).run()


class _Server(uvicorn.Server):
    """uvicorn server that signals a threading.Event (and calls ``on_ready``) once it accepts connections."""

    def __init__(self, config: uvicorn.Config, on_ready: Callable[[_Server], None] | None = None) -> None:
        super().__init__(config)
        self.ready = threading.Event()
        self.on_ready = on_ready

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        if self.started:
            self.ready.set()
            if self.on_ready is not None:
                self.on_ready(self)

    def url(self) -> str:
        """``http://host:port`` of the first listening socket."""
        sockets = self.servers[0].sockets if self.servers else ()
        if not sockets:
            return f"http://{self.config.host}:{self.config.port}"
        host, port = sockets[0].getsockname()[:2]
        return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


class ServerThread:
    """Context manager running ``app`` on a background thread; ``.url`` is set once it accepts connections.

    The socket is bound here, before uvicorn starts, so ``port=0`` yields the real port without a race.
    """

    def __init__(
        self,
        app: Any,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        log_level: str = "warning",
        startup_deadline: float = STARTUP_DEADLINE_S,
    ) -> None:
        self.app = app
        self.host = host
        self.port = port
        self.log_level = log_level
        self.startup_deadline = startup_deadline
        self.url = ""
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._sock: socket.socket | None = None

    def start(self) -> ServerThread:
        sock = socket.socket(socket.AF_INET6 if ":" in self.host else socket.AF_INET, socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((self.host, self.port))
        except OSError:
            sock.close()
            raise
        self._sock = sock
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(
            self.app, log_level=self.log_level, access_log=False, lifespan="auto", timeout_graceful_shutdown=2
        )
        self._server = _Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [sock]}, name=f"uvicorn:{self.port}", daemon=True
        )
        self._thread.start()
        self._wait_ready()
        host = f"[{self.host}]" if ":" in self.host else self.host
        self.url = f"http://{host}:{self.port}"
        return self

    def _wait_ready(self) -> None:
        assert self._server is not None and self._thread is not None
        deadline = time.monotonic() + self.startup_deadline
        # Wait on the ready event, but wake now and then to notice a thread that died during startup.
        while not self._server.ready.wait(timeout=0.05):
            if not self._thread.is_alive():
                self._close_socket()
                raise RuntimeError(f"server on {self.host}:{self.port} exited during startup")
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"server on {self.host}:{self.port} not ready within {self.startup_deadline}s")

    def stop(self, timeout: float = 10.0) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout)
        self._close_socket()

    def _close_socket(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None

    def __enter__(self) -> ServerThread:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
