"""The engine contract's behaviour (tests/engine_contract.py), run against each implementation."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from engine_contract import EngineContract, OpenEngine
from gui_fakes import FakeBackend

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
