"""Shared test setup: every test runs with QA_APP_HOME in its own temporary folder."""

from __future__ import annotations

import os

import pytest
from server_kit import pg_server  # noqa: F401 - the session's PostgreSQL, for the team library

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    home = tmp_path_factory.mktemp("qa_home")
    monkeypatch.setenv("QA_APP_HOME", str(home))
    return home


@pytest.fixture
def qa_home(_isolated_home):
    """The temporary QA_APP_HOME of this test."""
    return _isolated_home
