"""``windtui serve``: textual-serve behind an authenticating proxy, identity from a header that is
trusted only from a loopback peer, one console per session started with ``--as LOGIN``."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("textual_serve")

from aiohttp import WSMsgType
from aiohttp.test_utils import TestClient, TestServer

from windtui import cli, web
from windtui.errors import Refused
from windtui.i18n import set_language

ERROR_PREFIX = "windtui: error: "
HEADER = {"X-Remote-User": "lihua"}


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# ---------------------------------------------------------------------------------------------
# The header-trust rule (no network)


@pytest.mark.parametrize("peer", ["127.0.0.1", "127.0.0.53", "::1", "::ffff:127.0.0.1"])
def test_a_valid_header_from_a_loopback_peer_names_the_login(peer: str) -> None:
    assert web.trusted_login(peer, "lihua") == "lihua"
    assert web.trusted_login(peer, "wang.jg-2") == "wang.jg-2"
    assert web.trusted_login(peer, "_svc") == "_svc"


@pytest.mark.parametrize(
    "peer", ["10.0.0.7", "192.168.1.20", "::ffff:10.0.0.7", "fe80::1", "", None]
)
def test_the_header_from_any_other_peer_is_refused(peer: str | None) -> None:
    with pytest.raises(Refused, match="trusted only from the authenticating proxy"):
        web.trusted_login(peer, "lihua")


@pytest.mark.parametrize("value", [None, "", "   "])
def test_a_missing_header_is_refused(value: str | None) -> None:
    with pytest.raises(Refused, match="no X-Remote-User header"):
        web.trusted_login("127.0.0.1", value)


@pytest.mark.parametrize(
    "value",
    [
        "Lihua",  # upper case
        "-rf",  # would read as an option
        "1abc",
        "li hua",
        "lihua;rm",
        "alice@example.com",
        "a" * 33,
        "lihua\n",
        " lihua",
        "\x1b[2Jx",
        "李华",
    ],
)
def test_a_header_that_is_not_a_login_is_refused(value: str) -> None:
    with pytest.raises(Refused, match="is not a windtui login") as caught:
        web.trusted_login("127.0.0.1", value)
    assert "\x1b" not in str(caught.value) and "\n" not in str(caught.value)


def test_the_header_name_is_named_in_the_refusal() -> None:
    with pytest.raises(Refused, match="X-Auth-User"):
        web.trusted_login("127.0.0.1", None, "X-Auth-User")


def test_the_console_command_is_an_argument_vector_with_as_login() -> None:
    argv = web.console_argv("lihua", db="sqlite:////tmp/a b.db", now="2025-03-03T10:00", lang="en")
    assert argv[:3] == [sys.executable, "-m", "windtui"]
    assert argv[argv.index("--as") + 1] == "lihua"
    assert "--db=sqlite:////tmp/a b.db" in argv and "--lang=en" in argv
    with pytest.raises(Refused):
        web.console_argv("--db=x")


# ---------------------------------------------------------------------------------------------
# Bad input on the command line: one line, non-zero


@pytest.mark.parametrize(
    ("args", "code", "text"),
    [
        (["--port", "70000"], 2, "--port must be between 1 and 65535"),
        (["--port", "0"], 2, "--port must be between 1 and 65535"),
        (["--port", "http"], 2, "--port"),
        (["--user-header", "X Remote"], 2, "--user-header must be an HTTP header name"),
        (["--public-url", "desk.example.com"], 2, "--public-url must be an http"),
    ],
)
def test_bad_options_give_one_line(
    args: list[str], code: int, text: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["--lang", "en", "serve", *args]) == code
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith(ERROR_PREFIX) and err.count("\n") == 1 and text in err


def test_a_port_in_use_gives_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert cli.main(["--lang", "en", "serve", "--port", str(port)]) == 1
    out, err = capsys.readouterr()
    assert out == ""  # nothing announced before the port is known to be free
    assert err.startswith(ERROR_PREFIX) and err.count("\n") == 1
    assert f"cannot listen on http://127.0.0.1:{port}" in err


def test_errors_are_translated(capsys: pytest.CaptureFixture[str]) -> None:
    try:
        assert cli.main(["--lang", "zh_CN", "serve", "--port", "70000"]) == 2
    finally:
        set_language("en")
    assert "--port 必须在 1 到 65535 之间" in capsys.readouterr().err


# ---------------------------------------------------------------------------------------------
# The real server, as a process


@pytest.fixture
def served(sqlite_url: str) -> Iterator[tuple[int, subprocess.Popen[str]]]:
    port = free_port()
    env = {**os.environ, "WINDTUI_LANG": "en"}
    process = subprocess.Popen(
        [sys.executable, "-m", "windtui", "--db", sqlite_url, "serve", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/static/js/textual.js", timeout=1)
                break
            except (urllib.error.URLError, ConnectionError):
                if process.poll() is not None or time.monotonic() > deadline:
                    out, err = process.communicate(timeout=5)
                    pytest.fail(f"windtui serve did not answer: {out}\n{err}")
                time.sleep(0.1)
        yield port, process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _get(port: int, headers: dict[str, str]) -> tuple[int, str, dict[str, str]]:
    request = urllib.request.Request(f"http://127.0.0.1:{port}/", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, response.read().decode(), dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(), dict(error.headers)


def _listening(port: int) -> set[str]:
    """Local addresses (hex, as in /proc/net/tcp*) listening on ``port``."""
    found = set()
    for name in ("/proc/net/tcp", "/proc/net/tcp6"):
        path = Path(name)
        if not path.exists():
            continue
        for line in path.read_text().splitlines()[1:]:
            fields = line.split()
            address, hex_port = fields[1].rsplit(":", 1)
            if int(hex_port, 16) == port and fields[3] == "0A":  # 0A: LISTEN
                found.add(address)
    return found


def test_serve_answers_with_the_textual_page_on_localhost_only(
    served: tuple[int, subprocess.Popen[str]],
) -> None:
    port, process = served
    status, body, headers = _get(port, HEADER)
    assert status == 200
    assert f'data-session-websocket-url="ws://127.0.0.1:{port}/ws"' in body
    assert "textual.js" in body and "textual-terminal" in body
    assert headers["X-Frame-Options"] == "DENY"

    status, body, _headers = _get(port, {})
    assert status == 403
    assert (
        body == f"{ERROR_PREFIX}refused: no X-Remote-User header; open the desk through the"
        " authenticating proxy\n"
    )
    status, body, _headers = _get(port, {"X-Remote-User": "Robert'); DROP"})
    assert status == 403 and "is not a windtui login" in body and body.count("\n") == 1

    if Path("/proc/net/tcp").exists():
        assert _listening(port) == {"0100007F"}  # 127.0.0.1, and no IPv6 socket

    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=10)
    assert process.returncode == 0, err
    assert f"listening on http://127.0.0.1:{port}" in out
    assert "Traceback" not in out + err


# ---------------------------------------------------------------------------------------------
# The websocket, in process: which command a session starts


RECORDER = """\
#!{python}
import json, sys
with open({record!r}, "w") as handle:
    json.dump(sys.argv[1:], handle)
sys.stderr.write("windtui: error: recorded\\n")
sys.exit(4)
"""


@pytest.fixture
async def client(tmp_path: Path) -> Any:
    record = tmp_path / "argv.json"
    script = tmp_path / "fake-python"
    script.write_text(RECORDER.format(python=sys.executable, record=str(record)))
    script.chmod(0o755)
    server = web.DeskServer(
        port=8000, public_url="https://desk.example.com", db="sqlite:///x.db", python=str(script)
    )
    async with TestClient(TestServer(await server._make_app(), host="127.0.0.1")) as test_client:
        test_client.record = record  # type: ignore[attr-defined]
        yield test_client


async def _screen(test_client: TestClient, headers: dict[str, str]) -> str:
    """What the browser's terminal shows in the first moments of a session."""
    text = b""
    async with test_client.ws_connect("/ws?width=100&height=30", headers=headers) as ws:
        try:
            while True:
                message = await asyncio.wait_for(ws.receive(), 5)
                if message.type != WSMsgType.BINARY:
                    break
                text += message.data
                if text.endswith(b"\r\n"):
                    break
        except TimeoutError:
            pass
    return text.decode()


async def test_a_session_starts_the_console_as_the_proxy_login(client: TestClient) -> None:
    shown = await _screen(client, {**HEADER, "Origin": "https://desk.example.com"})
    argv = json.loads(client.record.read_text())  # type: ignore[attr-defined]
    assert argv[:4] == ["-m", "windtui", "--as", "lihua"]
    assert "--db=sqlite:///x.db" in argv
    # The console refused (here: the recorder's exit 4): its one line reaches the browser.
    assert shown == "windtui: error: recorded\r\n"


@pytest.mark.parametrize(
    ("headers", "why"),
    [
        ({"Origin": "https://desk.example.com"}, "no X-Remote-User header"),
        ({**HEADER, "Origin": "https://evil.example.net"}, "the page came from"),
        (HEADER, "the page came from ?"),
        ({"X-Remote-User": "--as=root", "Origin": "https://desk.example.com"}, "not a windtui"),
    ],
)
async def test_a_refused_session_shows_one_line_and_starts_nothing(
    client: TestClient, headers: dict[str, str], why: str
) -> None:
    shown = await _screen(client, headers)
    assert shown.startswith(f"{ERROR_PREFIX}refused: ") and why in shown
    assert shown.count("\r\n") == 1 and shown.endswith("\r\n")
    assert not client.record.exists()  # type: ignore[attr-defined]


async def test_no_downloads_and_deliveries_are_dropped(client: TestClient) -> None:
    response = await client.get("/download/anything", headers=HEADER)
    assert response.status == 404

    written: list[object] = []

    async def write(data: object) -> None:
        written.append(data)

    manager = web.DeskServer().download_manager
    service = web.ConsoleService(
        ["true"], write_bytes=write, write_str=write, close=write, download_manager=manager
    )
    delivery = {
        "type": "deliver_file_start",
        "key": "k1",
        "path": "/tmp/screenshot.svg",
        "open_method": "download",
        "mime_type": "image/svg+xml",
        "encoding": "utf-8",
    }
    await service.on_meta(json.dumps(delivery).encode())
    assert written == []
    assert manager._active_downloads == {}
