"""A lost terminal (an SSH link dropping) ends the console process; it is not left spinning."""

from __future__ import annotations

import os
import pty
import select
import signal
import sys
import time
from collections.abc import Callable

from windtui.services.desk import Desk, os_login

from .conftest import NOW


def _drain(fd: int, seconds: float) -> bytes:
    seen = b""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        ready, _w, _x = select.select([fd], [], [], 0.1)
        if ready:
            try:
                seen += os.read(fd, 65536)
            except OSError:
                break
    return seen


def test_console_exits_when_its_terminal_goes_away(demo_db: Callable[[str], str]) -> None:
    url = demo_db("en")
    admin = Desk.open(url, now=NOW, actor="tester")  # the demo's administrator, Xie Ning
    admin.set_staff("xien", os_logins=["tester", os_login()])  # this OS login opens as xien
    admin.close()
    argv = [sys.executable, "-m", "windtui", "--db", url, "--now", NOW.isoformat()]
    pid, fd = pty.fork()
    if pid == 0:  # the child's terminal is the pty
        os.environ["TERM"] = "xterm-256color"
        os.execv(argv[0], argv)
    try:
        painted = _drain(fd, 4.0)
        assert b"Queue" in painted  # it really was up and drawing (80x24: no desk title)
        os.close(fd)  # hang up: the kernel sends SIGHUP to the session, as sshd's exit does
        status = None
        deadline = time.monotonic() + 15
        while status is None and time.monotonic() < deadline:
            done, code = os.waitpid(pid, os.WNOHANG)
            status = code if done else None
            time.sleep(0.1)
        assert status is not None, "the console kept running after its terminal went away"
    finally:
        try:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        except (ProcessLookupError, ChildProcessError):
            pass
