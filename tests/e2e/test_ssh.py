"""Remote staff over OpenSSH, end to end (README "Remote desks over SSH").

Debian's real ``sshd`` on a free loopback port, a throwaway shared account whose root-owned
``authorized_keys`` line fixes the person per key (``restrict,pty,command="… windtui --as lizq"``),
a root-owned system configuration that trusts the account, and a real ``ssh -tt`` client inside a
fixed-size tmux pane. What it proves:

- the technician's key opens the console as ``lizq``, showing their job and not a colleague's;
  their depart key is written to the event log under ``lizq``, and ``q`` ends the session with
  exit status 0;
- a command the client asks for does not run: the console opens instead;
- a hang-up (the client vanishes) ends the console process on the server;
- port forwarding and sftp are refused.

Needs root, ``/usr/sbin/sshd``, ``ssh``, ``sftp``, ``tmux`` and ``useradd`` (``.ci/run`` installs
what is missing). Skipped without them, except with ``CI=true``, where that fails instead.
"""

from __future__ import annotations

import os
import pwd
import shlex
import shutil
import signal
import socket
import stat
import subprocess
import sys
import sysconfig
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, suppress
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest

from windtui.domain.model import Action
from windtui.services.desk import Desk
from windtui.services.records import EventRecord

pytestmark = pytest.mark.ssh

SSHD = "/usr/sbin/sshd"
TOOLS = ("ssh", "sftp", "ssh-keygen", "tmux", "useradd", "usermod", "userdel")
#: Every wait is bounded by this (generous: a loaded 2-CPU CI machine starts Python slowly).
TIMEOUT = 20.0
COLS, ROWS = 80, 24

ADMIN, DISPATCHER, TECH, OTHER = "deskadmin", "chenx", "lizq", "wangjg"
MINE, THEIRS = 7301, 7302
MINE_TITLE, THEIRS_TITLE = "Pitch motor overheat", "Yaw brake squeal"
TECH_NAME = "Li Zhiqiang"
#: The technician's depart key on their job list.
DEPART_KEY = "g"


def _unavailable(reason: str) -> None:
    """Skip, or fail under ``CI=true``: CI must run this test (same rule as ``pg_url``)."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(reason)
    pytest.skip(reason)


def _run(*argv: str | Path, **kwargs: object) -> subprocess.CompletedProcess[str]:
    """Run a setup command; raise with its output when it fails."""
    kwargs.setdefault("timeout", TIMEOUT)
    done = subprocess.run(  # type: ignore[call-overload]
        [str(a) for a in argv], capture_output=True, text=True, check=False, **kwargs
    )
    if done.returncode != 0:
        raise AssertionError(
            f"{shlex.join(str(a) for a in argv)} exited {done.returncode}:\n"
            f"{done.stdout}{done.stderr}"
        )
    return done


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait(what: str, probe: Callable[[], object], describe: Callable[[], str]) -> object:
    """Poll ``probe`` until it returns something truthy; fail after ``TIMEOUT`` with
    ``describe()`` (the screen, the logs)."""
    deadline = time.monotonic() + TIMEOUT
    while True:
        result = probe()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(
                f"timed out after {TIMEOUT:.0f} s waiting for {what}\n{describe()}"
            )
        time.sleep(0.05)


def _pids_of(uid: int) -> list[int]:
    """Processes running as ``uid`` (the throwaway account's: only this test starts them)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with suppress(OSError):
            for line in (entry / "status").read_text().splitlines():
                if line.startswith("Uid:"):
                    if int(line.split()[1]) == uid:
                        pids.append(int(entry.name))
                    break
    return pids


def _not_traversable(path: Path) -> Path | None:
    """The first directory above ``path`` that others may not enter, if any."""
    for parent in reversed(path.parents):
        if not parent.stat().st_mode & stat.S_IXOTH:
            return parent
    return None


def _as_account(user: pwd.struct_passwd, argv: list[str]) -> tuple[int, str]:
    """Run ``argv`` as the account (its own uid and group only); exit status and output."""
    try:
        done = subprocess.run(
            argv,
            user=user.pw_uid,
            group=user.pw_gid,
            extra_groups=[],
            env={"HOME": user.pw_dir, "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"},
            cwd=user.pw_dir,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    except OSError as exc:  # the exec itself was refused
        return 126, str(exc)
    return done.returncode, (done.stdout + done.stderr).strip()[-800:]


def _console_argv(user: pwd.struct_passwd, windtui: Path, base: Path) -> list[str]:
    """How the account starts the console of this test's own environment.

    ``<sys.prefix>/bin/windtui`` when the account can run it. When a directory on the way to
    the interpreter is closed to other accounts (a venv made with a pyenv Python under
    ``/root``, mode 700), a stand-in: a venv in ``base`` on a reachable Python of the same
    version, whose ``.pth`` adds this environment's site-packages, so the same installed
    windtui code runs, as ``python -m windtui``.
    """
    status, output = _as_account(user, [str(windtui), "--help"])
    if status == 0:
        return [str(windtui)]
    interpreter = Path(os.path.realpath(sys.executable))
    blocked = _not_traversable(interpreter) or _not_traversable(windtui)
    if blocked is None:
        pytest.fail(f"{user.pw_name} cannot run {windtui} --help (exit {status}): {output}")
    why = (
        f"{blocked} is closed to other accounts (mode {blocked.stat().st_mode & 0o7777:o}),"
        f" so {user.pw_name} cannot run {windtui} (interpreter {interpreter})"
    )
    site_dirs = list(dict.fromkeys(sysconfig.get_paths()[k] for k in ("purelib", "platlib")))
    closed = [d for d in site_dirs if _not_traversable(Path(d) / "x") is not None]
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    reachable = [
        p
        for p in (Path("/usr/bin") / version, Path("/usr/local/bin") / version)
        if p.exists() and _not_traversable(Path(os.path.realpath(p))) is None
    ]
    if closed or not reachable:
        _unavailable(
            f"{why}; no stand-in: "
            + (f"{closed[0]} is closed too" if closed else f"no reachable {version}")
            + ". Make the environment from a Python that other accounts may run"
        )
    venv = base / "venv"
    _run(reachable[0], "-m", "venv", "--without-pip", venv)
    (venv / "lib" / version / "site-packages" / "_windtui_e2e.pth").write_text(
        "".join(f"import site; site.addsitedir({d!r})\n" for d in site_dirs)
    )
    argv = [str(venv / "bin" / "python"), "-m", "windtui"]
    status, output = _as_account(user, [*argv, "--help"])
    if status != 0:
        pytest.fail(f"{why}; the stand-in {shlex.join(argv)} failed too (exit {status}): {output}")
    return argv


@dataclass
class RemoteDesk:
    """The running server and everything a test needs to reach it."""

    base: Path
    account: str
    uid: int
    port: int
    url: str
    key: Path
    known_hosts: Path
    sshd_log: Path
    tmux_socket: Path

    @property
    def destination(self) -> str:
        return f"{self.account}@127.0.0.1"

    # -- ssh ----------------------------------------------------------------------------------
    def ssh_options(self) -> list[str]:
        """Client options: no user or system ssh_config, this key only, this host key only,
        never a prompt."""
        return [
            "-F",
            "/dev/null",
            "-i",
            str(self.key),
            "-o",
            "IdentitiesOnly=yes",
            "-o",
            "BatchMode=yes",
            "-o",
            "StrictHostKeyChecking=yes",
            "-o",
            f"UserKnownHostsFile={self.known_hosts}",
            "-o",
            "GlobalKnownHostsFile=/dev/null",
            "-o",
            "ConnectTimeout=10",
        ]

    def ssh(self, *options: str, command: str | None = None) -> list[str]:
        """The ssh client's argv, ``options`` before the destination, ``command`` after it."""
        argv = ["ssh", *self.ssh_options(), "-p", str(self.port), *options]
        argv.append(self.destination)
        return [*argv, command] if command is not None else argv

    def log(self) -> str:
        with suppress(OSError):
            return self.sshd_log.read_text(errors="replace")[-3000:]
        return ""

    # -- tmux ---------------------------------------------------------------------------------
    def tmux(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "LANG": "C.UTF-8"}
        argv = ["tmux", "-u", "-f", "/dev/null", "-S", str(self.tmux_socket), *args]
        done = subprocess.run(
            argv, capture_output=True, text=True, env=env, timeout=TIMEOUT, check=False
        )
        if check and done.returncode != 0:
            raise AssertionError(f"{shlex.join(argv)} failed: {done.stderr}")
        return done

    def login(self, name: str, command: str | None = None) -> Path:
        """``ssh -tt`` in a new 80x24 tmux session; returns the file its exit status goes to."""
        status = self.base / f"{name}.status"
        ssh = shlex.join(self.ssh("-tt", command=command))
        self.tmux(
            "new-session",
            "-d",
            "-s",
            name,
            "-x",
            str(COLS),
            "-y",
            str(ROWS),
            f"{ssh}; echo $? > {shlex.quote(str(status))}",
            ";",  # keep the last screen after ssh ends (for the failure messages)
            "set-option",
            "-t",
            name,
            "remain-on-exit",
            "on",
        )
        return status

    def screen(self, name: str) -> str:
        done = self.tmux("capture-pane", "-p", "-t", name, check=False)
        return done.stdout if done.returncode == 0 else ""

    def keys(self, name: str, *keys: str) -> None:
        self.tmux("send-keys", "-t", name, *keys)

    def describe(self, name: str) -> Callable[[], str]:
        return lambda: (
            f"--- screen of {name} ---\n{self.screen(name)}\n--- sshd log (tail) ---\n{self.log()}"
        )

    def wait_screen(self, name: str, what: str, test: Callable[[str], bool]) -> str:
        def probe() -> str | None:
            text = self.screen(name)
            return text if test(text) else None

        return str(_wait(what, probe, self.describe(name)))

    def wait_exit(self, name: str, status: Path) -> int:
        def probe() -> str | None:
            with suppress(OSError):
                text = status.read_text().strip()
                return text or None
            return None

        return int(str(_wait(f"session {name} to end", probe, self.describe(name))))

    # -- the database -------------------------------------------------------------------------
    def events(self, number: int) -> tuple[EventRecord, ...]:
        """The ticket's event log, read through the services (as root, then the account gets
        its files back: root may have created the -wal/-shm files)."""
        desk = Desk.open(self.url, actor=ADMIN)
        try:
            return desk.detail(number).events
        finally:
            desk.close()
            self.give_database()

    def give_database(self) -> None:
        db_dir = self.base / "db"
        os.chown(db_dir, self.uid, -1)
        for path in db_dir.iterdir():
            os.chown(path, self.uid, -1)


def _seed(url: str) -> None:
    """An administrator, a dispatcher and two technicians; a farm; ticket MINE dispatched to
    lizq and ticket THEIRS dispatched to wangjg (every step through the services)."""
    desk = Desk.open(url, actor=ADMIN)
    try:
        desk.add_staff(ADMIN, name_zh="管理员", name_en="Desk Admin", roles=["admin"])
        desk.add_staff(DISPATCHER, name_zh="陈曦", name_en="Chen Xi", roles=["dispatcher"])
        desk.add_staff(TECH, name_zh="李志强", name_en=TECH_NAME, roles=["technician"])
        desk.add_staff(OTHER, name_zh="王建国", name_en="Wang Jianguo", roles=["technician"])
        desk.add_customer("HNR", name_zh="华能新能源", name_en="Huaneng Renewables")
        desk.add_farm(
            "DBC",
            name_zh="达坂城风电场",
            name_en="Dabancheng Wind Farm",
            province="新疆",
            latitude=43.35,
            longitude=88.30,
            calendar="24x7",
        )
        desk.add_turbines(
            "DBC",
            [
                {
                    "position": p,
                    "model": "GW121-2.5MW",
                    "rated_kw": 2500,
                    "commissioned": date(2015, 9, 30),
                }
                for p in ("A07", "B05")
            ],
        )
        desk.actor = DISPATCHER
        for number, turbine, title, tech in (
            (MINE, "A07", MINE_TITLE, TECH),
            (THEIRS, "B05", THEIRS_TITLE, OTHER),
        ):
            desk.create_ticket(
                farm="DBC",
                turbine=turbine,
                category="fault",
                priority="P2",
                title=title,
                number=number,
            )
            desk.act(number, Action.ACK)
            desk.act(number, Action.FEEDBACK)
            desk.act(number, Action.DISPATCH, technician=tech)
    finally:
        desk.close()


@pytest.fixture(scope="module")
def remote() -> Iterator[RemoteDesk]:
    """sshd on a free loopback port serving the console to a throwaway shared account."""
    if os.geteuid() != 0:
        _unavailable("the SSH end-to-end test needs root (it adds an OS account and runs sshd)")
    if not os.access(SSHD, os.X_OK):
        _unavailable(f"{SSHD} is missing (apt-get install openssh-server)")
    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    if missing:
        _unavailable(f"missing for the SSH end-to-end test: {', '.join(missing)}")
    windtui = Path(sys.prefix) / "bin" / "windtui"
    if not os.access(windtui, os.X_OK):
        _unavailable(f"{windtui} is missing: install the project into this environment")

    with ExitStack() as cleanup:
        # StrictModes: the key files must sit in root-owned directories that nobody else may
        # write, up to /, so not under the world-writable temp dir.
        base = Path(tempfile.mkdtemp(prefix="windtui-e2e-", dir="/var/lib"))
        cleanup.callback(shutil.rmtree, base, ignore_errors=True)
        base.chmod(0o755)

        account = f"wte2e{uuid.uuid4().hex[:8]}"
        _run("useradd", "-m", "-d", base / "home", "-s", "/bin/sh", account)
        cleanup.callback(subprocess.run, ["userdel", "-r", account], capture_output=True)
        # useradd leaves the account locked ("!"), which sshd refuses without PAM; "*" means
        # "no password" without locking it.
        _run("usermod", "-p", "*", account)
        user = pwd.getpwnam(account)

        def end_account_processes() -> None:
            # The sessions' consoles run as the account: end them before userdel.
            for pid in _pids_of(user.pw_uid):
                with suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            deadline = time.monotonic() + TIMEOUT
            while _pids_of(user.pw_uid) and time.monotonic() < deadline:
                time.sleep(0.05)

        cleanup.callback(end_account_processes)

        console = _console_argv(user, windtui, base)

        # The database, prepared as root, then handed to the account (WAL writes its -wal and
        # -shm files next to the database, so the account owns the directory too).
        db_dir = base / "db"
        db_dir.mkdir(mode=0o700)
        url = f"sqlite:///{db_dir / 'desk.db'}"
        _seed(url)

        # The administrator's system configuration: root-owned, trusts the shared account.
        system_config = base / "windtui.toml"
        system_config.write_text(f'[identity]\ntrusted_accounts = ["{account}"]\n')
        system_config.chmod(0o644)

        keys = base / "keys"
        keys.mkdir(mode=0o700)
        host_key = base / "ssh_host_ed25519_key"
        _run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "e2e-host", "-f", host_key)
        key = keys / TECH
        _run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", TECH, "-f", key)

        # One root-owned key line per person: the forced command fixes who they are.
        command = shlex.join(
            [
                "env",
                f"WINDTUI_SYSTEM_CONFIG={system_config}",
                *console,
                "--db",
                url,
                "--as",
                TECH,
            ]
        )
        assert '"' not in command and "\n" not in command, f"unusable in a key line: {command!r}"
        authorized = base / "authorized_keys"
        authorized.mkdir(mode=0o755)
        public = Path(f"{key}.pub").read_text().strip()
        (authorized / account).write_text(f'restrict,pty,command="{command}" {public}\n')
        (authorized / account).chmod(0o644)

        port = _free_port()
        sshd_config = base / "sshd_config"
        sshd_config.write_text(
            "\n".join(
                [
                    # The test's own server: this port, these keys, only this account.
                    f"Port {port}",
                    "ListenAddress 127.0.0.1",
                    f"HostKey {host_key}",
                    f"PidFile {base / 'sshd.pid'}",
                    "UsePAM no",
                    "StrictModes yes",
                    "PermitRootLogin no",
                    f"AllowUsers {account}",
                    "PrintMotd no",
                    "PrintLastLog no",
                    "UseDNS no",
                    "LogLevel VERBOSE",
                    # Debian's default, kept: the key line's forced command must beat it.
                    "Subsystem sftp /usr/lib/openssh/sftp-server",
                    # The block README.md ("Remote desks over SSH") recommends.
                    f"Match User {account}",
                    f"    AuthorizedKeysFile {authorized}/%u",
                    "    AuthenticationMethods publickey",
                    "    PasswordAuthentication no",
                    "    KbdInteractiveAuthentication no",
                    "    DisableForwarding yes",
                    "    PermitTTY yes",
                    "    ClientAliveInterval 30",
                    "    ClientAliveCountMax 4",
                    "",
                ]
            )
        )
        privsep = Path("/run/sshd")  # sshd's privilege-separation directory (Debian)
        if not privsep.exists():
            privsep.mkdir(mode=0o755, parents=True)
        _run(SSHD, "-t", "-f", sshd_config)
        sshd_log = base / "sshd.log"
        sshd = subprocess.Popen(
            [SSHD, "-D", "-f", str(sshd_config), "-E", str(sshd_log)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

        def stop_sshd() -> None:
            sshd.terminate()
            try:
                sshd.wait(timeout=TIMEOUT)
            except subprocess.TimeoutExpired:
                sshd.kill()
                sshd.wait()

        cleanup.callback(stop_sshd)

        def banner() -> bool:
            if sshd.poll() is not None:
                raise AssertionError(f"sshd exited {sshd.returncode}:\n{sshd_log.read_text()}")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
                    return s.recv(64).startswith(b"SSH-2.0-")
            except OSError:
                return False

        _wait(f"sshd on 127.0.0.1:{port}", banner, lambda: sshd_log.read_text())

        known_hosts = base / "known_hosts"
        host_public = Path(f"{host_key}.pub").read_text().split()
        known_hosts.write_text(f"[127.0.0.1]:{port} {host_public[0]} {host_public[1]}\n")

        desk = RemoteDesk(
            base=base,
            account=account,
            uid=user.pw_uid,
            port=port,
            url=url,
            key=key,
            known_hosts=known_hosts,
            sshd_log=sshd_log,
            tmux_socket=base / "tmux.sock",
        )
        desk.give_database()
        # Last in, first out: the tmux server (the ssh clients) goes first.
        cleanup.callback(desk.tmux, "kill-server", check=False)
        yield desk


def _job_list_shown(text: str) -> bool:
    return str(MINE) in text and MINE_TITLE[:12] in text


def test_technician_departs_as_themselves(remote: RemoteDesk) -> None:
    """lizq's key: the console as lizq, only their job; depart is logged under lizq."""
    status = remote.login("lizq")
    screen = remote.wait_screen("lizq", f"ticket {MINE} on lizq's job list", _job_list_shown)
    assert str(THEIRS) not in screen and THEIRS_TITLE[:8] not in screen, screen
    header = screen.splitlines()[0]
    assert TECH in header and TECH_NAME in header, f"the header does not name lizq:\n{screen}"
    assert "En route" not in screen, screen

    remote.keys("lizq", DEPART_KEY)
    remote.wait_screen("lizq", "the job to show En route", lambda text: "En route" in text)

    remote.keys("lizq", "q")
    assert remote.wait_exit("lizq", status) == 0, remote.describe("lizq")()

    departs = [e for e in remote.events(MINE) if e.action == Action.DEPART.value]
    assert departs, "no depart event in the log"
    assert {e.actor for e in departs} == {TECH}
    log = remote.log()  # sshd names the key's forced command, person included
    assert "forced-command (key-option)" in log and f"--as {TECH}'" in log, log


def test_client_command_does_not_run(remote: RemoteDesk) -> None:
    """A command the client asks for is ignored: the console opens instead."""
    pwned = Path(tempfile.gettempdir()) / f"windtui-e2e-pwned-{uuid.uuid4().hex[:8]}"
    try:
        status = remote.login("command", f"id; touch {pwned}")
        screen = remote.wait_screen("command", "the console", _job_list_shown)
        assert "uid=" not in screen, screen
        remote.keys("command", "q")
        assert remote.wait_exit("command", status) == 0, remote.describe("command")()
        assert not pwned.exists(), "the client's command ran"
    finally:
        pwned.unlink(missing_ok=True)


def test_hang_up_ends_the_console(remote: RemoteDesk) -> None:
    """The client vanishes (its terminal closes): the console on the server ends too."""
    remote.login("hangup")
    remote.wait_screen("hangup", "the console", _job_list_shown)
    assert _pids_of(remote.uid), "no console process runs as the account"
    remote.tmux("kill-session", "-t", "hangup")
    _wait(
        "the console to end after the hang-up",
        lambda: not _pids_of(remote.uid),
        lambda: f"still running as {remote.account}: {_pids_of(remote.uid)}\n{remote.log()}",
    )


def test_port_forwarding_is_refused(remote: RemoteDesk) -> None:
    """``ssh -N -L``: the tunnel's channel is refused, nothing reaches the forwarded port."""
    local = _free_port()
    client = subprocess.Popen(
        remote.ssh("-N", "-L", f"127.0.0.1:{local}:127.0.0.1:{remote.port}"),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:

        def through_tunnel() -> bytes | None:
            if client.poll() is not None:
                return b"(ssh exited)"
            try:
                with socket.create_connection(("127.0.0.1", local), timeout=2) as s:
                    s.settimeout(TIMEOUT)
                    return s.recv(64) or b"(closed)"
            except OSError:
                return None  # not listening yet

        received = _wait("the local end of the tunnel", through_tunnel, remote.log)
        assert not bytes(received).startswith(b"SSH-"), "the forwarded port answered"
    finally:
        client.terminate()
        _out, err = client.communicate(timeout=TIMEOUT)
    assert "administratively prohibited" in err, err


def test_sftp_is_refused(remote: RemoteDesk) -> None:
    """sftp gets no file access: the key's forced command replaces the sftp subsystem (Debian's
    default ``Subsystem sftp`` line is configured)."""
    done = subprocess.run(
        ["sftp", *remote.ssh_options(), "-b", "-", "-P", str(remote.port), remote.destination],
        input="pwd\nls /\n",
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    assert done.returncode != 0, done.stdout + done.stderr
    assert "Remote working directory" not in done.stdout, done.stdout
