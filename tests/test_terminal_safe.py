"""Names and text from outside reach the terminal escaped (JSON stays exact); file names that
are not UTF-8 work end to end; questions that are not UTF-8 are read or refused in one line;
`| head` ends quietly."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from email.message import EmailMessage
from pathlib import Path

import pytest

from qa_app.cli import commands as cli
from qa_app.cli.console import ProgressBar
from qa_app.engine import Engine
from qa_app.records import Progress
from qa_app.safe_text import json_text, terminal_safe
from qa_app.testing import FakeEmbedder

ROOT = Path(__file__).resolve().parent.parent
HOSTILE = "\x1b]52;c;aGVsbG8=\x07\x1b[2J memo\n\x9b\u2028\x7f.txt"
# Anything a terminal acts on: C0 but newline, DEL, C1, the separators, lone surrogates.
RAW = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")
FAKE_CLI = """
import sys
from qa_app.cli import commands as cli
from qa_app.testing import FakeEmbedder
from qa_app.engine import Engine
original = Engine.__init__
def init(self, library=None, **kw):
    kw["embedder"] = FakeEmbedder()
    original(self, library, **kw)
Engine.__init__ = init
cli.run(sys.argv[1:])
"""


@pytest.fixture
def fake_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    original = Engine.__init__

    def init(self: Engine, library: str | None = None, **kw: object) -> None:
        kw["embedder"] = FakeEmbedder()
        original(self, library, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(Engine, "__init__", init)


def test_the_helper_escapes_what_a_terminal_acts_on_and_json_stays_exact() -> None:
    shown = terminal_safe(HOSTILE + "caf\udce9")
    assert not RAW.search(shown) and "\n" not in shown
    assert shown.endswith("\\x9b\\u2028\\x7f.txtcaf\\xe9") and "\\x1b]52" in shown
    assert terminal_safe("a\nb\tc\x1b", lines=True) == "a\nb\tc\\x1b"
    assert terminal_safe("Zoë — plain text") == "Zoë — plain text"
    text = json_text({"name": HOSTILE + "caf\udce9"})
    assert not RAW.search(text)
    assert json.loads(text) == {"name": HOSTILE + "caf\udce9"}


def hostile_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / HOSTILE).write_text("The memo says the lighthouse keeper left.", encoding="utf-8")
    raw = os.fsencode(folder) + b"/caf\xe9.txt"  # a Latin-1 name: not UTF-8
    with open(raw, "wb") as handle:
        handle.write(b"The cafe served coffee to the harbour master at dawn.")
    (folder / "zz-after.txt").write_text("Owls nest in the old orchard.", encoding="utf-8")
    message = EmailMessage()
    message["Subject"] = "Quarterly memo"
    message["From"] = "someone@example.org"
    message.set_content("See the attached memo about the glacier survey.")
    message.add_attachment(
        b"The glacier survey found the ice retreating.",
        maintype="text",
        subtype="plain",
        filename="\x1b]52;c;aGk=\x07\x1b[2J survey.txt",
    )
    (folder / "mail.eml").write_bytes(bytes(message))
    return folder


def assert_safe(output: str) -> None:
    assert not RAW.search(output), repr(RAW.search(output))


def test_every_command_prints_names_and_text_escaped(
    tmp_path: Path, fake_engine: None, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = hostile_folder(tmp_path)
    assert cli.main(["add", "-l", "lib", str(folder)]) == 0
    out, err = capsys.readouterr()
    assert_safe(out + err.replace("\r", ""))  # progress bars included (their own \r aside)
    assert cli.main(["list", "-l", "lib"]) == 0
    listed = capsys.readouterr().out
    assert_safe(listed)
    assert "\\x1b]52;c;aGVsbG8=\\x07\\x1b[2J memo\\x0a\\x9b\\u2028\\x7f.txt" in listed
    assert "caf\\xe9.txt" in listed and "» \\x1b]52;c;aGk=\\x07\\x1b[2J survey.txt" in listed
    documents = [line for line in listed.splitlines() if line.startswith("indexed")]
    assert len(documents) == 5  # one line per document: 4 files and the attachment
    for argv in (
        ["search", "memo lighthouse keeper"],
        ["search", "glacier survey"],
        ["ask", "Who left?", "--reader", "sentence"],
        ["ask", "What did the glacier survey find?", "--reader", "sentence"],
        ["show", str(folder / HOSTILE)],
    ):
        assert cli.main([*argv, "-l", "lib"]) == 0, argv
        shown = capsys.readouterr()
        assert_safe(shown.out + shown.err)
        assert "\\x1b" in shown.out, argv  # the hostile name is there, escaped
    assert cli.main(["list", "-l", "lib", "--json"]) == 0
    paths = {d["path"] for d in json.loads(capsys.readouterr().out)}
    assert (
        str(folder / HOSTILE) in paths
        and os.fsdecode(os.fsencode(folder) + b"/caf\xe9.txt") in paths
    )


def test_progress_bars_escape_file_names(capsys: pytest.CaptureFixture[str]) -> None:
    bar = ProgressBar()
    bar(Progress(0, 2, "index", f"/docs/{HOSTILE}"))
    bar(Progress(1, 2, "ocr", f"/docs/{HOSTILE}"))
    bar(Progress(2, 2, "index", ""))
    bar.close()
    err = capsys.readouterr().err.replace("\r", "").replace("\n", "")
    assert not RAW.search(err) and "\\x1b]52" in err


def test_a_name_that_is_not_utf8_is_stored_synced_excluded_and_removed(
    tmp_path: Path, fake_engine: None, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = hostile_folder(tmp_path)
    latin = os.fsdecode(os.fsencode(folder) + b"/caf\xe9.txt")
    assert cli.main(["add", "-q", "-l", "lib", str(folder)]) == 0
    with Engine("lib", embedder=FakeEmbedder()) as eng:
        known = {d.path: d.status for d in eng.documents()}
        assert known[latin] == "indexed" and known[str(folder / "zz-after.txt")] == "indexed"
        assert eng.search("coffee harbour master", k=1)[0].path == latin  # read back losslessly
    with open(os.fsencode(latin), "ab") as handle:
        handle.write(b" It also served tea.")
    os.utime(os.fsencode(latin), (1, 1))
    capsys.readouterr()
    assert cli.main(["sync", "-l", "lib"]) == 0
    assert "updated 1" in capsys.readouterr().out
    assert cli.main(["remove", "-l", "lib", latin]) == 0  # inside an added folder: excluded
    assert "removed " + str(folder) + "/caf\\xe9.txt" in capsys.readouterr().out
    assert cli.main(["sync", "-l", "lib"]) == 0
    with Engine("lib", embedder=FakeEmbedder()) as eng:
        assert eng.exclusions() == [latin]
        assert not eng.search("coffee", k=3) or eng.search("coffee", k=3)[0].path != latin
    assert cli.main(["add", "-q", "-l", "lib", latin]) == 0  # included again
    with Engine("lib", embedder=FakeEmbedder()) as eng:
        assert eng.exclusions() == [] and latin in {d.path for d in eng.documents()}


def test_a_question_that_is_not_utf8_is_read_or_refused_in_one_line(
    tmp_path: Path, fake_engine: None, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["add", "-q", "-l", "lib", str(hostile_folder(tmp_path))]) == 0
    capsys.readouterr()
    latin = os.fsdecode(b"Who ran the caf\xe9?")
    assert cli.main(["ask", latin, "-l", "lib", "--reader", "sentence"]) == 0
    out, err = capsys.readouterr()
    assert "read as Windows-1252: Who ran the café?" in err and "Traceback" not in err
    assert cli.main(["search", os.fsdecode(b"caf\xe9"), "-l", "lib"]) == 0
    capsys.readouterr()
    undefined = os.fsdecode(b"caf\x81")  # not a character in Windows-1252 either
    assert cli.main(["ask", undefined, "-l", "lib"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not UTF-8 text (caf\\x81)" in err


def test_output_cut_short_by_head_ends_quietly_with_status_0(
    tmp_path: Path, fake_engine: None
) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "long.txt").write_text("A line about harbours.\n\n" * 40_000, encoding="utf-8")
    for i in range(300):
        (folder / f"note{i:03}.txt").write_text(f"Note {i} about owls.", encoding="utf-8")
    assert cli.main(["add", "-q", "-l", "lib", str(folder)]) == 0
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    for argv in (["list"], ["show", str(folder / "long.txt")]):
        done = subprocess.run(
            ["bash", "-o", "pipefail", "-c", 's=$1; shift; "$0" -c "$s" "$@" -l lib | head -1',
             sys.executable, FAKE_CLI, *argv],
            capture_output=True, text=True, env=env, timeout=120,
        )  # fmt: skip
        assert done.returncode == 0 and done.stderr == "", (argv, done.stderr)
        assert len(done.stdout.splitlines()) == 1
