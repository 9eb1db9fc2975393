"""Nothing reaches the network: add + search (+ ask) with the real model and every socket blocked,
and, seen from outside the process (native code included), no DNS lookup and no connect."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

SEEDS = Path(__file__).resolve().parent.parent / "qa_app" / "seeds"

GUARD = """
import socket, sys
class NetworkBlocked(OSError):
    pass
def refuse(*a, **k):
    raise NetworkBlocked("network access attempted")
socket.socket.connect = refuse
socket.socket.connect_ex = refuse
socket.create_connection = refuse
socket.getaddrinfo = refuse
from qa_app.engine import Engine
with Engine("offline") as eng:
    report = eng.add([sys.argv[1]])
    assert report.ok, report.failed
    hits = eng.search("first shipment", k=3)
    print(hits[0].path)
"""


@pytest.mark.model
def test_add_and_search_never_touch_the_network(tmp_path: Path) -> None:
    env = {k: v for k, v in __import__("os").environ.items() if not k.startswith("HF_")}
    out = subprocess.run(
        [sys.executable, "-c", GUARD, str(SEEDS)],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.strip().endswith("004_71c8a87dcccb59d2.txt")
    assert "network access attempted" not in out.stderr


# strace's view of one socket call: "connect(3, {sa_family=AF_INET, sin_port=htons(53), ..."
_CALL = re.compile(r"\b(connect|sendto|sendmsg)\((\d+), (.*)")


def network_calls(trace: str) -> tuple[list[str], list[str]]:
    """Return (DNS lookups, connects or sends to an address that is not local) in an strace log.

    Local: AF_UNIX sockets and AF_NETLINK (the kernel's own routing queries).
    """
    dns: list[str] = []
    remote: list[str] = []
    for line in trace.splitlines():
        found = _CALL.search(line)
        if found is None or "sa_family=" not in found.group(3):
            continue
        args = found.group(3)
        if "htons(53)" in args:
            dns.append(line)
        elif "AF_INET" in args and not re.search(
            r"inet_addr\(\"127\.|inet_pton\(AF_INET6, \"::1\"", args
        ):
            remote.append(line)
    return dns, remote


# ONNX Runtime's telemetry thread looked its host up some seconds into a session (an `eval`, the
# window): a session kept busy for a while, as those are.
LONG_SESSION = """
import sys, time
from qa_app.engine import Engine
with Engine("offline") as eng:
    started = time.monotonic()
    while time.monotonic() - started < float(sys.argv[1]):  # the embedder's ONNX session
        hits = eng.search("When did Russia receive the first shipment?", k=3)
    print(hits[0].path)
"""


def traced(argv: list[str], trace: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run the qa-app command ``argv`` (or, after "-c", a script) with no network
    (unshare -rn) under strace -f."""
    program = ["-c", *argv[1:]] if argv[0] == "-c" else ["-m", "qa_app.cli.commands", *argv]
    command = [
        "unshare", "-rn", "strace", "-f", "-qq", "-o", str(trace),
        "-e", "trace=connect,sendto,sendmsg", "-e", "signal=none",
        sys.executable, *program,
    ]  # fmt: skip
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=900)


def _native_tracing() -> str | None:
    """Return why the native-level test cannot run here, or None."""
    if not sys.platform.startswith("linux"):
        return "network namespaces are Linux only"
    for tool in ("unshare", "strace"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed (apt-get install -y {'util-linux' if tool == 'unshare' else tool})"
    probe = subprocess.run(["unshare", "-rn", "strace", "-qq", "true"], capture_output=True)
    if probe.returncode != 0:
        return f"unshare -rn with strace is not allowed here: {probe.stderr.decode()[-200:]}"
    return None


def test_onnx_runtime_telemetry_is_off_before_any_session() -> None:
    import qa_app.models.onnx_runtime as onnx_runtime

    assert os.environ.get("ORT_DISABLE_TELEMETRY") == "1"
    assert "disable_telemetry_events()" in Path(onnx_runtime.__file__).read_text(encoding="utf-8")


def test_the_trace_parser_sees_dns_and_connects() -> None:
    trace = "\n".join(
        [
            '12 connect(5, {sa_family=AF_INET, sin_port=htons(53), sin_addr=inet_addr("10.0.0.2")}, 16) = -1',
            '12 sendto(5, "x", 1, 0, {sa_family=AF_INET6, sin6_port=htons(53), ...}, 28) = 1',
            '13 connect(6, {sa_family=AF_INET, sin_port=htons(443), sin_addr=inet_addr("20.42.65.92")}, 16) = -1',
            '13 connect(7, {sa_family=AF_UNIX, sun_path="/run/dbus/system_bus_socket"}, 110) = 0',
            '13 connect(8, {sa_family=AF_INET, sin_port=htons(80), sin_addr=inet_addr("127.0.0.1")}, 16) = 0',
            '13 sendto(9, "data", 4, 0, NULL, 0) = 4',
        ]
    )
    dns, remote = network_calls(trace)
    assert len(dns) == 2 and len(remote) == 1 and "20.42.65.92" in remote[0]


@pytest.mark.model
def test_add_and_ask_make_no_dns_lookup_and_no_connect_natively(tmp_path: Path) -> None:
    why = _native_tracing()
    if why is not None:
        pytest.skip(why)
    env = {k: v for k, v in os.environ.items() if not k.startswith("HF_")}
    env["QA_APP_HOME"] = str(tmp_path / "home")
    root = str(Path(__file__).resolve().parent.parent)
    env["PYTHONPATH"] = root + os.pathsep + env.get("PYTHONPATH", "")
    runs = [
        ["add", "-q", "-l", "offline", str(SEEDS)],
        ["-c", LONG_SESSION, "30"],
        ["ask", "-l", "offline", "When did Russia receive the first shipment?"],
    ]
    for n, argv in enumerate(runs):
        trace = tmp_path / f"trace{n}.txt"
        done = traced(argv, trace, env)
        assert done.returncode == 0, done.stderr[-3000:]
        dns, remote = network_calls(trace.read_text(encoding="utf-8", errors="replace"))
        assert dns == [] and remote == [], (argv, dns[:3], remote[:3])
    assert "earlier this month" in done.stdout
