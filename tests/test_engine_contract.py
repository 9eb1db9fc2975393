"""The engine contract's behaviour (tests/engine_contract.py), run against each implementation."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from engine_contract import EngineContract, OpenEngine
from gui_fakes import FakeBackend
from server_kit import PgServer, unique_name

from qa_app.contracts import LibraryAdmin
from qa_app.engine import Engine, library_admin
from qa_app.testing.embedders import FakeEmbedder


class TestEngine(EngineContract):
    """The real engine, with the fake embedder and the sentence reader (no model loads)."""

    @pytest.fixture
    def open_engine(self) -> Iterator[OpenEngine]:
        opened: list[Engine] = []

        def open_library(name: str | None) -> Engine:
            engine = Engine(name, embedder=FakeEmbedder(), reader="sentence")
            opened.append(engine)
            return engine

        yield open_library
        for engine in opened:
            engine.close()

    @pytest.fixture
    def admin(self) -> LibraryAdmin:
        return library_admin()


class TestTeamEngine(TestEngine):
    """The real engine on a team library (PostgreSQL, as ``--server`` opens one)."""

    @pytest.fixture
    def library(self) -> str:
        return unique_name("contract")  # the session's tests share one server

    @pytest.fixture
    def open_engine(self, pg_server: PgServer) -> Iterator[OpenEngine]:
        opened: list[Engine] = []

        def open_library(name: str | None) -> Engine:
            engine = Engine(
                name, embedder=FakeEmbedder(), reader="sentence", server=pg_server.socket_dsn
            )
            opened.append(engine)
            return engine

        yield open_library
        for engine in opened:
            engine.close()

    _TEAM = "team libraries are listed, kept and deleted on their server (tests/test_server_cli.py)"

    @pytest.mark.skip(reason="the default library is a local one")
    def test_the_default_library_is_built_from_the_bundled_seeds(self) -> None: ...

    @pytest.mark.skip(reason=_TEAM)
    def test_an_opened_library_is_listed(self) -> None: ...

    @pytest.mark.skip(reason=_TEAM)
    def test_libraries_are_listed_renamed_and_deleted(self) -> None: ...

    @pytest.mark.skip(reason=_TEAM)
    def test_a_library_is_not_renamed_onto_another(self) -> None: ...


class TestFakeEngine(EngineContract):
    """The in-memory engine the window's tests drive (tests/gui_fakes.py)."""

    @pytest.fixture
    def backend(self) -> FakeBackend:
        return FakeBackend()

    @pytest.fixture
    def open_engine(self, backend: FakeBackend) -> OpenEngine:
        return backend.open

    @pytest.fixture
    def admin(self, backend: FakeBackend) -> FakeBackend:
        return backend  # the window manages libraries through its backend
