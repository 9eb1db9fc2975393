"""The behaviour every implementation of contracts.Engine shows, as a mixin (Haystack's testing idea).

A test class that inherits ``EngineContract`` and provides two fixtures runs every test here:
``open_engine`` (a callable: library name, None for the default library -> an open engine) and
``admin`` (a contracts.LibraryAdmin, or the fake's stand-in with libraries, rename_library and
delete_library). tests/test_engine_contract.py runs it against qa_app.engine.Engine (with the fake
embedder and the sentence reader) and against the window's FakeEngine, so the fake cannot drift
from what the window and the CLI rely on. Only behaviour both must show belongs here: exact
scores, passage sizes and failure wording differ, and are not asserted.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from qa_app import paths
from qa_app.contracts import Engine, Scope
from qa_app.errors import AlreadyExists, InvalidInput, NotFound
from qa_app.records import Progress

OpenEngine = Callable[[str | None], Engine]
LIBRARY = "contract"
MAYOR = "Who is the mayor of Valdoria?"
UNANSWERABLE = "How many moons does Jupiter have?"


def write(folder: Path, name: str, text: str) -> str:
    """Write ``text`` to ``folder/name``; return the file's absolute path."""
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return str(path)


def changed(path: str, text: str) -> None:
    """Rewrite ``path`` with a different size and modification time, as an edit would."""
    Path(path).write_text(text, encoding="utf-8")
    os.utime(path, (1, 1))  # a different mtime even on coarse clocks


class EngineContract:
    """What the window, the CLI and evaluation may rely on, whichever engine they are given."""

    @pytest.fixture
    def docs(self, tmp_path: Path) -> Path:
        """A folder of three small text files (one in a subfolder) and an empty one."""
        folder = (tmp_path / "docs").resolve()
        write(
            folder, "alpha.txt", "The harbour of Valdoria was closed in March.\n\nShips waited.\n"
        )
        write(folder, "sub/beta.txt", "The mayor of Valdoria is Ines Moreau.\n")
        write(folder, "gamma.txt", "Lighthouses guide ships along the northern coast.\n")
        write(folder, "empty.txt", "")
        return folder

    @pytest.fixture
    def library(self) -> str:
        """The name of the library the tests open (a subclass may make it unique)."""
        return LIBRARY

    @pytest.fixture
    def engine(self, open_engine: OpenEngine, library: str) -> Engine:
        """A new, empty library, open."""
        return open_engine(library)

    @pytest.fixture
    def filled(self, engine: Engine, docs: Path) -> Engine:
        """The library with ``docs`` added."""
        engine.add([docs])
        return engine

    # -- opening ----------------------------------------------------------------------------

    def test_a_new_library_is_empty_and_ready(self, engine: Engine, library: str) -> None:
        assert engine.name == library and engine.notices == []  # nothing to rebuild
        assert engine.documents() == [] and engine.folders() == []
        assert engine.search("harbour") == []
        assert not engine.needs_seeding and engine.pending() == 0
        assert engine.ensure_ready() is None  # nothing to build, repair or embed

    def test_the_default_library_is_built_from_the_bundled_seeds(
        self, open_engine: OpenEngine
    ) -> None:
        engine = open_engine(None)
        assert engine.name == paths.DEFAULT_LIBRARY and engine.needs_seeding
        report = engine.ensure_ready()
        assert report is not None and not report.cancelled
        seeds = sorted(p.name for p in paths.seeds_dir().glob("*.txt"))
        assert sorted(Path(p).name for p in report.added) == seeds
        assert sorted(Path(d.path).name for d in engine.documents()) == seeds
        assert not engine.needs_seeding and engine.ensure_ready() is None

    def test_cancelling_the_first_build_leaves_it_to_do(self, open_engine: OpenEngine) -> None:
        engine = open_engine(None)
        report = engine.ensure_ready(cancel=lambda: True)
        assert report is not None and report.cancelled and engine.needs_seeding

    def test_an_opened_library_is_listed(self, engine: Engine, admin: Any, library: str) -> None:
        assert library in admin.libraries()

    def test_the_with_block_hands_back_the_engine(self, engine: Engine) -> None:
        with engine as same:
            assert same is engine

    # -- adding and listing -----------------------------------------------------------------

    def test_adding_a_folder_indexes_its_files_and_names_the_failures(
        self, engine: Engine, docs: Path, tmp_path: Path
    ) -> None:
        missing = str(tmp_path / "missing.txt")
        report = engine.add([docs, missing])
        readable = {
            str(docs / "alpha.txt"),
            str(docs / "sub" / "beta.txt"),
            str(docs / "gamma.txt"),
        }
        assert set(report.added) == readable and not report.updated and not report.cancelled
        failed = {f.path: f.reason for f in report.failed}
        assert set(failed) == {str(docs / "empty.txt"), missing} and all(failed.values())
        listed = {d.path: d for d in engine.documents()}
        assert {p for p, d in listed.items() if d.status == "indexed"} == readable
        assert listed[str(docs / "empty.txt")].status == "failed"
        assert listed[str(docs / "empty.txt")].error
        assert all(listed[p].chunks >= 1 for p in readable)
        assert engine.folders() == [str(docs)]
        assert engine.pending() == 0  # every passage embedded by the run

    def test_hidden_files_and_unsupported_formats_in_a_folder_are_left_out(
        self, engine: Engine, docs: Path
    ) -> None:
        write(docs, ".hidden.txt", "A hidden note about Valdoria.\n")
        write(docs, ".git/config.txt", "A note in a hidden folder.\n")
        write(docs, "notes.xyz", "A file of a format no loader reads.\n")
        report = engine.add([docs])
        assert {Path(p).name for p in report.added} == {"alpha.txt", "beta.txt", "gamma.txt"}
        assert [f.path for f in report.failed] == [str(docs / "empty.txt")]
        xyz = str(docs / "notes.xyz")
        report = engine.add([xyz])  # added by name, it fails with the reason
        assert [f.path for f in report.failed] == [xyz] and report.failed[0].reason
        assert {d.path: d.status for d in engine.documents()}[xyz] == "failed"

    def test_progress_goes_up_to_the_total_and_ends_with_the_embeddings(
        self, engine: Engine, docs: Path
    ) -> None:
        seen: list[Progress] = []
        engine.add([docs], progress=seen.append)
        assert seen and all(0 <= p.done <= p.total for p in seen)
        assert seen[-1].stage == "embed" and seen[-1].done == seen[-1].total > 0

    def test_a_cancelled_run_keeps_what_was_read_and_sync_goes_on(
        self, engine: Engine, docs: Path
    ) -> None:
        seen: list[Progress] = []
        report = engine.add(
            [docs],
            progress=seen.append,
            cancel=lambda: any(p.stage == "index" and p.done >= 2 for p in seen),
        )
        assert report.cancelled and len(report.added) == 2
        listed = {d.path: d.status for d in engine.documents()}
        assert {listed[p] for p in report.added} == {"pending"} and engine.pending() > 0
        assert engine.search("Valdoria")  # keyword search finds them already
        resumed = engine.sync()
        readable = {
            str(docs / "alpha.txt"),
            str(docs / "sub" / "beta.txt"),
            str(docs / "gamma.txt"),
        }
        assert set(report.added) | set(resumed.added) == readable and resumed.unchanged == 2
        assert engine.pending() == 0

    def test_ensure_ready_finishes_the_embeddings_a_cancelled_run_left(
        self, engine: Engine, docs: Path
    ) -> None:
        seen: list[Progress] = []
        stop = lambda: any(p.stage == "index" and p.done >= 1 for p in seen)  # noqa: E731
        assert engine.add([docs], progress=seen.append, cancel=stop).cancelled
        waiting = engine.pending()
        assert waiting > 0
        report = engine.ensure_ready()
        assert report is not None and report.chunks_embedded == waiting
        assert engine.pending() == 0 and engine.ensure_ready() is None

    def test_a_markdown_headline_is_the_title_and_markup_is_not_text(
        self, engine: Engine, tmp_path: Path
    ) -> None:
        text = "# Harbour report\n\nThe mayor of Valdoria is *Ines* Moreau.\n"
        engine.add([write(tmp_path / "md", "report.md", text)])
        (info,) = engine.documents()
        assert info.title == "Harbour report" and info.format == "md"
        stored = engine.document_text(info.id)
        assert "#" not in stored and "*" not in stored and "Ines Moreau" in stored
        answer = engine.ask(MAYOR).answer
        assert answer is not None and answer.text == "Ines Moreau"

    def test_adding_again_reads_nothing_again(self, filled: Engine, docs: Path) -> None:
        report = filled.add([docs])
        assert not (report.added or report.updated) and report.unchanged == 3

    def test_a_failed_file_once_fixed_is_read_at_the_next_sync(
        self, filled: Engine, docs: Path
    ) -> None:
        write(docs, "empty.txt", "Now it says that Valdoria has three ferries.\n")
        report = filled.sync()
        assert report.added == (str(docs / "empty.txt"),) and not report.failed
        assert filled.search("ferries")[0].path == str(docs / "empty.txt")

    def test_documents_are_listed_by_path(self, filled: Engine) -> None:
        listed = [d.path for d in filled.documents()]
        assert listed == sorted(listed)

    def test_a_documents_text_is_what_the_file_says(self, filled: Engine, docs: Path) -> None:
        beta = next(d for d in filled.documents() if d.path.endswith("beta.txt"))
        assert "The mayor of Valdoria is Ines Moreau." in filled.document_text(beta.id)
        with pytest.raises(NotFound):
            filled.document_text(987654)
        (failed,) = [d for d in filled.documents() if d.status == "failed"]
        with pytest.raises(NotFound):  # a failed file has no stored text
            filled.document_text(failed.id)

    # -- searching --------------------------------------------------------------------------

    def test_search_finds_the_passage_and_its_offsets_point_into_the_text(
        self, filled: Engine, docs: Path
    ) -> None:
        hits = filled.search("Lighthouses northern coast", k=5)
        assert hits and hits[0].path == str(docs / "gamma.txt") and len(hits) <= 5
        titles = {d.id: d.title for d in filled.documents()}
        for hit in hits:
            assert filled.document_text(hit.doc_id)[hit.start : hit.end] == hit.text
            assert hit.title == titles[hit.doc_id]

    def test_search_keeps_to_the_scope(self, filled: Engine, docs: Path) -> None:
        hits = filled.search("Valdoria", k=10, scope=Scope(folder=str(docs / "sub")))
        assert hits and {h.path for h in hits} == {str(docs / "sub" / "beta.txt")}
        notes = write(docs, "notes.md", "# Notes\n\nValdoria has three ferries.\n")
        filled.sync()
        hits = filled.search("Valdoria", k=10, scope=Scope(formats=("md",)))
        assert hits and {h.path for h in hits} == {notes}

    # -- asking -----------------------------------------------------------------------------

    def test_ask_answers_with_a_citation_into_the_document(self, filled: Engine) -> None:
        result = filled.ask(MAYOR)
        assert result.question == MAYOR and result.passages
        assert len(filled.ask(MAYOR, k=1).passages) == 1
        assert result.answer is not None and "Moreau" in result.answer.text
        assert result.verdict.kind == "answer" and result.top is not None
        assert result.reader == filled.reader().name
        cite = result.answer.citations[0]
        text = filled.document_text(cite.doc_id)
        assert text[cite.answer_start : cite.answer_end] == result.answer.text
        assert cite.sentence_start <= cite.answer_start < cite.answer_end <= cite.sentence_end

    def test_an_unanswerable_question_is_not_found(self, filled: Engine) -> None:
        result = filled.ask(UNANSWERABLE)
        assert result.answer is None and result.verdict.kind == "not_found"

    def test_a_threshold_above_every_score_finds_nothing(self, filled: Engine) -> None:
        result = filled.ask(MAYOR, threshold=1.01)
        assert result.answer is None and result.threshold == 1.01

    def test_ask_keeps_to_the_scope(self, filled: Engine, docs: Path) -> None:
        scope = Scope(folder=str(docs / "sub"))
        result = filled.ask(MAYOR, scope=scope)
        assert result.answer is not None
        assert all(scope.admits(p.path) for p in result.passages)
        assert all(scope.admits(c.path) for c in result.answer.citations)

    def test_an_empty_question_is_invalid(self, filled: Engine) -> None:
        with pytest.raises(InvalidInput):
            filled.ask("   ")

    def test_the_reader_says_its_name_and_threshold(self, filled: Engine) -> None:
        reader = filled.reader()
        assert isinstance(reader.name, str) and reader.name
        assert 0.0 <= reader.threshold <= 1.0
        assert filled.reader(reader.name).name == reader.name
        with pytest.raises(InvalidInput):
            filled.reader("no-such-reader")
        with pytest.raises(InvalidInput):
            filled.ask(MAYOR, reader="no-such-reader")

    # -- keeping up with the files ----------------------------------------------------------

    def test_sync_without_changes_changes_nothing(self, filled: Engine) -> None:
        report = filled.sync()
        assert not (report.added or report.updated or report.removed) and report.unchanged == 3

    def test_sync_reads_changed_new_and_deleted_files(self, filled: Engine, docs: Path) -> None:
        changed(str(docs / "alpha.txt"), "The harbour of Valdoria reopened in May.\n")
        delta = write(docs, "delta.txt", "A report about the bridges of Valdoria.\n")
        (docs / "gamma.txt").unlink()
        report = filled.sync()
        assert report.updated == (str(docs / "alpha.txt"),) and report.added == (delta,)
        assert report.removed == (str(docs / "gamma.txt"),) and report.unchanged == 1
        assert "Lighthouses" not in " ".join(h.text for h in filled.search("Lighthouses"))
        assert any("reopened" in h.text for h in filled.search("harbour reopened May"))

    def test_sync_drops_an_added_file_that_is_gone_with_a_notice(
        self, engine: Engine, docs: Path
    ) -> None:
        beta = docs / "sub" / "beta.txt"
        engine.add([beta])
        beta.unlink()
        report = engine.sync()
        assert report.removed == (str(beta),) and not report.failed
        assert any(str(beta) in notice for notice in report.notices)
        assert engine.documents() == [] and engine.sync().notices == ()

    def test_sync_names_an_added_folder_that_is_gone(self, filled: Engine, docs: Path) -> None:
        filled.exclude([docs / "gamma.txt"])
        for path in sorted(docs.rglob("*"), reverse=True):
            path.unlink() if path.is_file() else path.rmdir()
        docs.rmdir()
        report = filled.sync()
        assert [f.path for f in report.failed] == [str(docs)] and report.failed[0].reason
        assert set(report.removed) == {
            str(docs / "alpha.txt"), str(docs / "sub" / "beta.txt"), str(docs / "empty.txt")
        }  # fmt: skip
        assert filled.folders() == [str(docs)]  # still added: it may come back (a drive)
        assert {d.status for d in filled.documents()} == {"excluded"}

    def test_a_touched_file_whose_bytes_are_the_same_is_unchanged(
        self, filled: Engine, docs: Path
    ) -> None:
        before = {d.path: d.content_hash for d in filled.documents()}
        os.utime(docs / "alpha.txt", (1, 1))
        report = filled.sync()
        assert not report.updated and report.unchanged == 3
        changed(str(docs / "gamma.txt"), "Lighthouses guide ferries too.\n")
        assert filled.sync().updated == (str(docs / "gamma.txt"),)
        after = {d.path: d.content_hash for d in filled.documents()}
        alpha, gamma = str(docs / "alpha.txt"), str(docs / "gamma.txt")
        assert after[alpha] == before[alpha] and after[gamma] != before[gamma]

    def test_rebuild_reads_what_changed(self, filled: Engine, docs: Path) -> None:
        changed(str(docs / "alpha.txt"), "The harbour of Valdoria reopened in May.\n")
        report = filled.rebuild()
        assert report.updated == (str(docs / "alpha.txt"),) and not report.cancelled

    def test_exclude_keeps_a_file_out_until_included(self, filled: Engine, docs: Path) -> None:
        gamma = str(docs / "gamma.txt")
        assert filled.exclude([gamma]) == [gamma]
        assert {d.path: d.status for d in filled.documents()}[gamma] == "excluded"
        assert gamma not in filled.sync().added
        assert all(h.path != gamma for h in filled.search("Lighthouses northern coast"))
        filled.include([gamma])
        assert filled.sync().added == (gamma,)
        assert filled.search("Lighthouses northern coast")[0].path == gamma

    def test_excluding_a_subfolder_keeps_its_files_out_until_included(
        self, filled: Engine, docs: Path
    ) -> None:
        sub, beta = str(docs / "sub"), str(docs / "sub" / "beta.txt")
        assert filled.exclude([sub]) == [beta]
        statuses = {d.path: d.status for d in filled.documents()}
        assert statuses.get(sub) == "excluded" and beta not in statuses
        assert beta not in filled.sync().added
        filled.include([sub])
        assert filled.sync().added == (beta,)

    def test_removing_a_file_inside_an_added_folder_keeps_it_out(
        self, filled: Engine, docs: Path
    ) -> None:
        gamma = str(docs / "gamma.txt")
        assert filled.remove([gamma]) == [gamma]
        assert {d.path: d.status for d in filled.documents()}[gamma] == "excluded"
        assert not filled.sync().added

    def test_adding_an_excluded_file_includes_it_again(self, filled: Engine, docs: Path) -> None:
        gamma = str(docs / "gamma.txt")
        filled.exclude([gamma])
        assert filled.add([gamma]).added == (gamma,)
        assert [d.status for d in filled.documents() if d.path == gamma] == ["indexed"]

    def test_remove_forgets_documents_and_folders(self, filled: Engine, docs: Path) -> None:
        assert filled.remove([docs / "sub"]) == [str(docs / "sub" / "beta.txt")]
        assert all(not d.path.endswith("beta.txt") for d in filled.documents())
        assert filled.ask(MAYOR).answer is None
        filled.exclude([docs / "gamma.txt"])
        removed = filled.remove([docs])
        assert str(docs / "alpha.txt") in removed and str(docs / "empty.txt") in removed
        assert filled.documents() == [] and filled.folders() == []  # its exclusions went with it
        assert (docs / "alpha.txt").is_file()  # the files themselves stay

    def test_the_ocr_switch_is_remembered(
        self, engine: Engine, open_engine: OpenEngine, library: str
    ) -> None:
        assert engine.ocr
        assert engine.set_ocr(True) == 0  # already on: nothing to read again
        assert isinstance(engine.set_ocr(False), int) and not engine.ocr
        engine.close()
        assert not open_engine(library).ocr

    def test_switching_ocr_rereads_only_what_it_changes(self, filled: Engine, docs: Path) -> None:
        assert filled.set_ocr(False) == 0  # no text here was read by OCR
        assert filled.set_ocr(True) == 1  # the file that failed is tried again; text files are not
        report = filled.sync()
        assert not report.updated and [f.path for f in report.failed] == [str(docs / "empty.txt")]

    # -- the libraries as a whole -----------------------------------------------------------

    def test_libraries_are_listed_renamed_and_deleted(
        self, filled: Engine, open_engine: OpenEngine, admin: Any, library: str
    ) -> None:
        count = len(filled.documents())
        filled.close()
        assert library in admin.libraries()
        admin.rename_library(library, "renamed")
        assert "renamed" in admin.libraries() and library not in admin.libraries()
        renamed = open_engine("renamed")
        assert renamed.name == "renamed" and len(renamed.documents()) == count
        renamed.close()
        admin.delete_library("renamed")
        assert "renamed" not in admin.libraries()
        with pytest.raises(NotFound):
            admin.delete_library("renamed")
        with pytest.raises(NotFound):
            admin.rename_library("renamed", "again")

    def test_a_library_is_not_renamed_onto_another(
        self, filled: Engine, open_engine: OpenEngine, admin: Any, docs: Path, library: str
    ) -> None:
        filled.close()
        other = open_engine("other")
        other.add([docs / "gamma.txt"])
        other.close()
        with pytest.raises(AlreadyExists):
            admin.rename_library(library, "other")
        assert {library, "other"} <= set(admin.libraries())
