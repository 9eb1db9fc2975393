"""The team library's safety: passwords never shown or saved, TLS by default, one line without
the driver, and no address but the named server's ever contacted."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from server_kit import PgServer, unique_name

from qa_app.cli.commands import main
from qa_app.server import saved
from qa_app.server.settings import (
    ServerError,
    ServerSettings,
    has_password,
    mask,
    without_password,
)

SECRET = "s3cr3t-Pa55"


@pytest.mark.parametrize(
    "dsn",
    [
        f"postgresql://ana:{SECRET}@db.example.org:5432/qa",
        f"postgres://ana:{SECRET}@db.example.org/qa?sslmode=require",
        f"postgresql://ana@db.example.org/qa?password={SECRET}&sslmode=require",
        f"host=db.example.org user=ana password={SECRET} dbname=qa",
        f"host=db.example.org password='{SECRET} x' dbname=qa",
    ],
)
def test_a_password_is_masked_and_never_saved(dsn: str, qa_home: Path) -> None:
    assert has_password(dsn)
    assert SECRET not in mask(dsn) and "***" in mask(dsn)
    assert SECRET not in without_password(dsn) and "db.example.org" in without_password(dsn)
    saved.remember("team", dsn)
    assert SECRET not in (qa_home / "config" / "servers.json").read_text(encoding="utf-8")
    assert saved.saved_server("team") == without_password(dsn)


def test_tls_when_offered_by_default_and_required_on_request(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("PGSSLMODE", raising=False)
    assert ServerSettings("postgresql://a@h/db").connect_arguments()["sslmode"] == "prefer"
    given = ServerSettings("postgresql://a@h/db?sslmode=require").connect_arguments()
    assert "sslmode" not in given  # the string's own sslmode=require stands
    monkeypatch.setenv("PGSSLMODE", "verify-full")
    assert "sslmode" not in ServerSettings("postgresql://a@h/db").connect_arguments()
    with pytest.raises(ServerError, match="sslmode=sometimes"):
        ServerSettings("postgresql://a@h/db?sslmode=sometimes").connect_arguments()


def test_required_tls_is_refused_by_a_server_without_it(pg_server: PgServer) -> None:
    from qa_app.engine import Engine
    from qa_app.testing import FakeEmbedder

    with pytest.raises(ServerError, match="cannot connect to postgresql://.*SSL"):
        Engine("t", embedder=FakeEmbedder(8), server=pg_server.tcp_dsn + "?sslmode=require")


def test_without_the_driver_one_line_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "psycopg", None)  # import psycopg fails
    code = main(["search", "--server", "postgresql://ana@db.example.org/qa", "-l", "t", "x"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1
    assert "pip install 'qa-app[server]'" in err
    assert main(["libraries"]) == 0  # local commands still work


def test_errors_never_show_the_password(
    pg_server: PgServer, capsys: pytest.CaptureFixture[str], qa_home: Path
) -> None:
    dsn = f"postgresql://nobody:{SECRET}@127.0.0.1:{pg_server.port}/nosuchdb"
    code = main(["list", "--server", dsn, "-l", "t"])
    out = capsys.readouterr()
    assert code == 2 and SECRET not in out.err + out.out and "***" in out.err
    assert not (qa_home / "config" / "servers.json").exists()  # a failed open remembers nothing


# strace's view: connect(3, {sa_family=AF_INET, sin_port=htons(5432), sin_addr=inet_addr("…")}, 16)
_CONNECT = re.compile(r"connect\(\d+, \{sa_family=(AF_INET6?|AF_UNIX)(.*?)\}")
SESSION = """
import sys
from qa_app.engine import Engine
from qa_app.testing import FakeEmbedder
with Engine(sys.argv[2], embedder=FakeEmbedder(64), server=sys.argv[1], reader="sentence") as eng:
    assert eng.add([sys.argv[3]]).ok
    assert eng.search("harbour", k=3)
    print(eng.ask("Where did the ships wait?").question)
"""


@pytest.mark.skipif(shutil.which("strace") is None, reason="strace is not installed")
def test_only_the_named_server_is_contacted(pg_server: PgServer, tmp_path: Path) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "a.txt").write_text("Ships waited outside the harbour of Valdoria.", encoding="utf-8")
    trace = tmp_path / "trace"
    out = subprocess.run(
        ["strace", "-f", "-qq", "-e", "trace=connect", "-o", str(trace), sys.executable]
        + ["-c", SESSION, pg_server.tcp_dsn, unique_name(), str(folder)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    calls = _CONNECT.findall(trace.read_text(errors="replace"))
    network = [detail for family, detail in calls if family != "AF_UNIX"]
    assert network, "the server was not reached over TCP"
    named = f'sin_port=htons({pg_server.port}), sin_addr=inet_addr("127.0.0.1")'
    assert all(named in detail for detail in network), network
