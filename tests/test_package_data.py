"""The package's data (seeds, reader weights, icons, style sheet, desktop entry) live inside qa_app."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

import qa_app
from qa_app import paths
from qa_app.reader import neural

PACKAGE = Path(qa_app.__file__).resolve().parent
REPO = PACKAGE.parent


def test_seeds_and_resources_are_found_inside_the_package() -> None:
    seeds = paths.seeds_dir()
    assert seeds.resolve() == PACKAGE / "seeds"
    assert len(list(seeds.glob("*.txt"))) == 5 and (seeds / "questions.jsonl").is_file()
    resources = paths.resources_dir()
    assert resources.resolve() == PACKAGE / "resources"
    for name in ("style.qss", "qa-app.desktop", "icons/qa-app.svg", "icons/qa-app-256.png"):
        assert (resources / name).is_file(), name
    assert neural.resource_dir() == resources / "reader"
    assert (neural.resource_dir() / neural.META_FILE).is_file()


def test_a_frozen_app_reads_its_data_from_the_bundle(monkeypatch: pytest.MonkeyPatch) -> None:
    bundle = Path("/opt/qa-app/_internal")
    monkeypatch.setattr(sys, "_MEIPASS", str(bundle), raising=False)
    assert paths.seeds_dir() == bundle / "qa_app" / "seeds"
    assert paths.resources_dir() == bundle / "qa_app" / "resources"


def test_the_top_level_seeds_path_still_reaches_the_seed_library() -> None:
    # CI, the README and issue texts run `qa-app eval seeds/questions.jsonl` from the repository.
    link = REPO / "seeds"
    if not link.exists():
        pytest.skip("not a source checkout")
    assert link.is_symlink() and link.resolve() == PACKAGE / "seeds"
    assert (link / "questions.jsonl").is_file()
