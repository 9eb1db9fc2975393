"""Nothing reaches the network: add + search (+ ask) with the real model and every socket blocked."""

from __future__ import annotations

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
