"""Fakes for tests and benchmarks; nothing in the app imports this package (an import contract says so)."""

from __future__ import annotations

from qa_app.testing.embedders import FakeEmbedder as FakeEmbedder
