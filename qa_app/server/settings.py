"""How a server is named and reached: the connection string, masked for people, TLS by default."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from qa_app.index.database import StoreError

INSTALL_HINT = "pip install 'qa-app[server]'"
DEFAULT_SSLMODE = "prefer"  # TLS whenever the server offers it; "require" refuses a plain link
_SSLMODES = ("disable", "allow", "prefer", "require", "verify-ca", "verify-full")
APPLICATION_NAME = "qa-app"

# The password, wherever a connection string can carry one: postgresql://user:PASSWORD@host,
# password=PASSWORD (key/value form) and ?password=PASSWORD (URL query).
_URL_PASSWORD = re.compile(r"^(postgres(?:ql)?://[^:@/?#]*):([^@/?#]*)@", re.IGNORECASE)
_KV_PASSWORD = re.compile(r"(\bpassword\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)", re.IGNORECASE)
_QUERY_PASSWORD = re.compile(r"([?&]password=)[^&#]*", re.IGNORECASE)


class ServerError(StoreError):
    """The server cannot be reached, refuses us, or lacks what a team library needs (one line)."""


def mask(dsn: str) -> str:
    """Return ``dsn`` with any password replaced by ``***`` (what may be printed or logged)."""
    masked = _URL_PASSWORD.sub(r"\1:***@", dsn.strip())
    masked = _QUERY_PASSWORD.sub(r"\1***", masked)
    return _KV_PASSWORD.sub(r"\1***", masked)


def has_password(dsn: str) -> bool:
    """Return True when the connection string itself carries a password."""
    return mask(dsn) != dsn.strip()


def without_password(dsn: str) -> str:
    """Return ``dsn`` with its password removed (what is saved: PGPASSWORD or .pgpass supply it)."""
    text = _URL_PASSWORD.sub(r"\1@", dsn.strip())
    text = re.sub(r"([?&])password=[^&#]*&?", r"\1", text, flags=re.IGNORECASE).rstrip("?&")
    return re.sub(r"\s*\bpassword\s*=\s*('(?:[^'\\]|\\.)*'|\S+)", "", text, flags=re.IGNORECASE)


def looks_like_server(text: str) -> bool:
    """Return True for a PostgreSQL URL or a key/value connection string naming a host or db."""
    return bool(
        re.match(r"^postgres(ql)?://", text.strip(), re.IGNORECASE)
        or re.search(r"\b(host|dbname|service)\s*=", text)
    )


def require_driver() -> None:
    """Raise ServerError in one line when the PostgreSQL driver (psycopg) is not installed."""
    try:
        import psycopg  # noqa: F401
    except ImportError:
        raise ServerError(
            f"a team library on a server needs the PostgreSQL driver: {INSTALL_HINT}"
        ) from None


@dataclass(frozen=True)
class ServerSettings:
    """One server as the user named it: the connection string (never shown whole) and TLS."""

    dsn: str

    def __post_init__(self) -> None:
        if not looks_like_server(self.dsn):
            raise ServerError(
                f"'{mask(self.dsn)}' is not a PostgreSQL connection string (expected "
                "postgresql://USER@HOST/DATABASE)"
            )

    @property
    def masked(self) -> str:
        """Return the connection string as it may be shown: its password, if any, as ***."""
        return mask(self.dsn)

    @property
    def without_password(self) -> str:
        """Return the connection string without its password (what identifies the server)."""
        return without_password(self.dsn)

    def connect_arguments(self) -> dict[str, Any]:
        """Return psycopg.connect keyword arguments: TLS when offered (sslmode=prefer) unless the
        string or PGSSLMODE says otherwise, our application name, and a bounded connect time."""
        import os

        from psycopg.conninfo import conninfo_to_dict

        try:
            given = conninfo_to_dict(self.dsn)
        except Exception as exc:  # noqa: BLE001 - psycopg's ProgrammingError names the text
            raise ServerError(f"cannot read the server address '{self.masked}': {exc}") from None
        extra: dict[str, Any] = {}
        mode = given.get("sslmode") or os.environ.get("PGSSLMODE")
        if mode is None:
            extra["sslmode"] = DEFAULT_SSLMODE
        elif mode not in _SSLMODES:
            raise ServerError(f"sslmode={mode} is not one of {', '.join(_SSLMODES)}")
        if "application_name" not in given:
            extra["application_name"] = APPLICATION_NAME
        if "connect_timeout" not in given and "PGCONNECT_TIMEOUT" not in os.environ:
            extra["connect_timeout"] = 10
        return extra
