"""``windtui serve``: the console in a browser, served by textual-serve behind an authenticating
reverse proxy.

textual-serve (Textualize's server for Textual apps) has no authentication of its own and tells
the app nothing about the HTTP request: every browser session runs one fixed shell command. This
module subclasses its ``Server`` and ``AppService`` just enough to

* take the person from a header set by the proxy (``X-Remote-User`` by default), trusted only
  when the TCP peer is a loopback address, and refuse the session otherwise;
* start each session's console as ``<python> -m windtui --as LOGIN …`` with an argument vector
  (no shell);
* refuse a websocket opened by a page from another origin (cross-site websocket hijacking);
* drop file deliveries (screenshots, exports): a browser user gets nothing a terminal user
  would not, and textual-serve's ``/download`` route answers 404.

Whether the CLI honours ``--as`` for the OS account running the server is the CLI's decision;
when it refuses, the browser shows the console's one-line error.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import json
import logging
import re
import shlex
import socket
import sys
from collections.abc import Sequence
from typing import Any

from aiohttp import web
from textual_serve.app_service import AppService
from textual_serve.server import Server, to_int
from yarl import URL

from windtui.errors import Refused, WindtuiError
from windtui.i18n import _

log = logging.getLogger("windtui.web")

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
DEFAULT_USER_HEADER = "X-Remote-User"

#: A windtui login (staff login, OS-account style).
LOGIN = re.compile(r"[a-z_][a-z0-9_.-]{0,31}")
#: An HTTP header name (RFC 9110 token, restricted to the usual letters, digits and dashes).
HEADER_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]{0,63}")


def is_loopback(peer: str | None) -> bool:
    """True when ``peer`` (the TCP peer address) is this host's loopback: 127.0.0.0/8 or ::1."""
    if not peer:
        return False
    try:
        address = ipaddress.ip_address(peer.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_loopback


def trusted_login(peer: str | None, value: str | None, header: str = DEFAULT_USER_HEADER) -> str:
    """The login the proxy vouches for, or :class:`Refused` naming why the session is refused.

    ``peer`` is the TCP peer (aiohttp's ``request.remote``: the socket, never a forwarded-for
    header); ``value`` is the user header. The header is trusted only from a loopback peer: the
    authenticating proxy runs on this host, and anything else reaching the port directly could
    write any name it likes.
    """
    if not is_loopback(peer):
        raise Refused(
            _(
                "refused: {header} is trusted only from the authenticating proxy on this host"
                " (this request came from {peer})"
            ).format(header=header, peer=peer or "?")
        )
    login = value or ""
    if not login.strip():
        raise Refused(
            _("refused: no {header} header; open the desk through the authenticating proxy").format(
                header=header
            )
        )
    if not LOGIN.fullmatch(login):
        raise Refused(
            _("refused: {value} in {header} is not a windtui login").format(
                value=ascii(login[:40]), header=header
            )
        )
    return login


def console_argv(
    login: str,
    *,
    db: str | None = None,
    now: str | None = None,
    lang: str | None = None,
    python: str | None = None,
) -> list[str]:
    """The command line of one browser session's console (an argument vector, no shell)."""
    if not LOGIN.fullmatch(login):  # trusted_login() checked it; never let a bad one through
        raise Refused(_("refused: {value} is not a windtui login").format(value=ascii(login)))
    argv = [python or sys.executable, "-m", "windtui", "--as", login, "--mouse"]
    if db:
        argv.append(f"--db={db}")
    if now:
        argv.append(f"--now={now}")
    if lang:
        argv.append(f"--lang={lang}")
    return argv


def origin_of(url: str) -> str:
    """``scheme://host[:port]`` of ``url`` (the form of a browser's ``Origin`` header)."""
    parsed = URL(url)
    if not parsed.absolute:
        return ""
    return str(parsed.origin()).rstrip("/")


def _line(refusal: Exception) -> str:
    return "windtui: error: " + " ".join(str(refusal).split())


class _StderrTail:
    """Wraps the console's stderr reader and keeps the last few KiB for the browser."""

    def __init__(self, reader: asyncio.StreamReader) -> None:
        self._reader = reader
        self.tail = b""

    async def read(self, n: int = -1) -> bytes:
        data = await self._reader.read(n)
        self.tail = (self.tail + data)[-4096:]
        return data


class ConsoleService(AppService):
    """One browser session's console process, started from an argument vector."""

    def __init__(self, argv: Sequence[str], **kwargs: Any) -> None:
        super().__init__(shlex.join(argv), **kwargs)
        self.argv = list(argv)
        self._stderr: _StderrTail | None = None

    def _build_environment(self, width: int = 80, height: int = 24) -> dict[str, str]:
        environment = super()._build_environment(width=width, height=height)
        environment.pop("WINDTUI_ACTOR", None)  # the person is the --as on the command line
        return environment

    async def _open_app_process(self, width: int = 80, height: int = 24) -> Any:
        environment = self._build_environment(width=width, height=height)
        self._process = process = await asyncio.create_subprocess_exec(
            *self.argv,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=environment,
        )
        assert process.stdin is not None and process.stderr is not None
        self._stdin = process.stdin
        self._stderr = _StderrTail(process.stderr)
        process.stderr = self._stderr  # type: ignore[assignment]  # read by AppService.run
        return process

    async def on_meta(self, data: bytes) -> None:
        meta = json.loads(data)
        if meta.get("type") == "deliver_file_start":
            log.warning(_("dropped a file delivery from the console (not offered to browsers)"))
            return
        await super().on_meta(data)

    async def run(self) -> None:
        await super().run()
        process = self._process
        if process is None:
            return
        try:
            code = await asyncio.wait_for(process.wait(), 5)
        except TimeoutError:
            return
        if code:
            with contextlib.suppress(Exception):  # the browser may be gone already
                await self.remote_write_bytes((self.failure_line(code) + "\r\n").encode())

    def failure_line(self, code: int) -> str:
        """The console's own ``windtui: error:`` line, else a pointer to the server log."""
        text = self._stderr.tail.decode("utf-8", "replace") if self._stderr else ""
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        if lines and lines[-1].startswith("windtui: error: "):
            return "".join(ch for ch in lines[-1] if ch.isprintable())
        return _line(
            Refused(
                _(
                    "the console stopped (exit status {code}); the server log has the details"
                ).format(code=code)
            )
        )


class DeskServer(Server):
    """textual-serve's server with the proxy-header identity and one console per session."""

    def __init__(
        self,
        *,
        host: str = DEFAULT_HOST,
        port: int = DEFAULT_PORT,
        public_url: str | None = None,
        user_header: str = DEFAULT_USER_HEADER,
        db: str | None = None,
        now: str | None = None,
        lang: str | None = None,
        python: str | None = None,
    ) -> None:
        listen = f"http://{_host_in_url(host)}:{port}"
        super().__init__(
            "windtui",
            host=host,
            port=port,
            title="windtui",
            public_url=(public_url or listen).rstrip("/"),
        )
        self.listen_url = listen
        self.user_header = user_header
        self.origin = origin_of(self.public_url)
        self.db, self.now, self.lang, self.python = db, now, lang, python

    # -- identity ------------------------------------------------------------------------------

    def session_login(self, request: web.Request, *, websocket: bool = False) -> str:
        """The person for this request, or :class:`Refused` (logged with the peer)."""
        try:
            login = trusted_login(
                request.remote, request.headers.get(self.user_header), self.user_header
            )
            if websocket:
                origin = request.headers.get("Origin", "")
                if origin.rstrip("/") != self.origin:
                    raise Refused(
                        _("refused: the page came from {origin}, not from {public}").format(
                            origin=ascii(origin[:80]) if origin else "?", public=self.origin
                        )
                    )
        except Refused as refusal:
            log.warning("%s %s: %s", request.remote, request.path, refusal)
            raise
        return login

    def console_argv(self, login: str) -> list[str]:
        return console_argv(login, db=self.db, now=self.now, lang=self.lang, python=self.python)

    # -- routes --------------------------------------------------------------------------------

    async def handle_download(self, request: web.Request) -> web.StreamResponse:
        """Nothing to download: deliveries are dropped (``ConsoleService.on_meta``), and
        textual-serve's route would hand a delivery to anyone holding its key."""
        raise web.HTTPNotFound()

    async def handle_index(self, request: web.Request) -> web.StreamResponse:  # type: ignore[override]
        try:
            self.session_login(request)
        except Refused as refusal:
            return web.Response(status=403, text=_line(refusal) + "\n")
        response = await super().handle_index(request)
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Content-Security-Policy"] = "frame-ancestors 'none'"
        response.headers["Cache-Control"] = "no-store"
        return response

    async def handle_websocket(self, request: web.Request) -> web.WebSocketResponse:
        """textual-serve's handler, with the identity check and a per-session command."""
        websocket = web.WebSocketResponse(heartbeat=15)
        try:
            login = self.session_login(request, websocket=True)
        except Refused as refusal:
            await websocket.prepare(request)
            await websocket.send_bytes((_line(refusal) + "\r\n").encode())
            async for _message in websocket:  # keep the line on screen until the browser leaves
                pass
            return websocket
        width = to_int(request.query.get("width", "80"), 80)
        height = to_int(request.query.get("height", "24"), 24)
        app_service: ConsoleService | None = None
        try:
            await websocket.prepare(request)
            log.info(_("{peer}: console for {login}").format(peer=request.remote, login=login))
            app_service = ConsoleService(
                self.console_argv(login),
                write_bytes=websocket.send_bytes,
                write_str=websocket.send_str,
                close=websocket.close,
                download_manager=self.download_manager,
                debug=self.debug,
            )
            await app_service.start(width, height)
            try:
                await self._process_messages(websocket, app_service)
            finally:
                await app_service.stop()
        except asyncio.CancelledError:
            await websocket.close()
        except Exception as error:
            log.exception(error)
        finally:
            if app_service is not None:
                await app_service.stop()
        return websocket

    async def on_startup(self, app: web.Application) -> None:
        print(
            _(
                "windtui serve: listening on {listen} (browsers use {public}); press Ctrl+C to stop"
            ).format(listen=self.listen_url, public=self.public_url),
            flush=True,
        )


def _host_in_url(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def _check_bind(host: str, port: int) -> None:
    """Bind and release ``host:port`` as aiohttp will (``SO_REUSEADDR``); OSError when it cannot."""
    for family, kind, proto, _name, address in socket.getaddrinfo(
        host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
    ):
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind(address)


def serve(**options: Any) -> int:
    """Run the server until Ctrl+C or SIGTERM (``DeskServer`` options)."""
    server = DeskServer(**options)
    try:
        _check_bind(server.host, server.port)  # before textual-serve announces anything
        server.serve()
    except OSError as exc:  # port in use, address not on this host, no permission
        raise WindtuiError(
            _("cannot listen on {address}: {why}").format(
                address=server.listen_url, why=(exc.strerror or str(exc)).lower()
            )
        ) from None
    return 0


__all__ = [
    "DEFAULT_USER_HEADER",
    "ConsoleService",
    "DeskServer",
    "console_argv",
    "is_loopback",
    "serve",
    "trusted_login",
]
