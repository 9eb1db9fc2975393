"""Servers remembered per library name (config/servers.json), never with a password in them."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from pathlib import Path

from qa_app import paths
from qa_app.server.settings import ServerError, without_password

SERVERS_FILE = "servers.json"


def _file() -> Path:
    return paths.config_dir() / SERVERS_FILE


def saved_servers() -> dict[str, str]:
    """Return {library name: connection string (no password)} of every remembered server library."""
    try:
        data = json.loads(_file().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict):
        return {}
    return {str(k): str(v) for k, v in data.items() if isinstance(v, str)}


def saved_server(name: str) -> str | None:
    """Return the server remembered for library ``name`` (None: the library is local)."""
    return saved_servers().get(name)


def remember(name: str, dsn: str) -> None:
    """Remember that library ``name`` lives on ``dsn`` (its password, if any, is not saved).

    Raises ServerError when a local library already has that name (it would be hidden).
    """
    check_name_free(name)
    servers = saved_servers()
    clean = without_password(dsn)
    if servers.get(name) == clean:
        return
    servers[name] = clean
    _write(servers)


def check_name_free(name: str) -> None:
    """Raise ServerError when a library on this computer is called ``name`` (a team library of
    that name would hide it)."""
    if (paths.library_dir(name) / "library.db").is_file():
        raise ServerError(
            f"a library called '{name}' already exists on this computer; give the team "
            "library another name (--library NAME)"
        )


def forget(name: str) -> None:
    """Forget the server of library ``name`` (nothing on the server changes)."""
    servers = saved_servers()
    if servers.pop(name, None) is not None:
        _write(servers)


def cache_dir(name: str, dsn: str) -> Path:
    """Return the local folder of a server library's caches (OCR text of pages): per server."""
    digest = hashlib.sha256(without_password(dsn).encode("utf-8", "surrogateescape")).hexdigest()
    return paths.home() / "servers" / f"{paths.check_library_name(name)}-{digest[:12]}"


def _write(servers: dict[str, str]) -> None:
    path = _file()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(json.dumps(servers, indent=2, sort_keys=True), encoding="utf-8")
        os.replace(tmp, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise ServerError(f"{path}: cannot remember the server ({exc.strerror or exc})") from exc
