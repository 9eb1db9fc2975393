#!/bin/bash
# The window's start-up under Xvfb, 5 runs each: a returning user (the demo library already built)
# and a new user (a fresh home: the demo library is built while the question waits). Prints the
# smoke hook's lines: "WINDOW-SHOWN <s>" and "ANSWER <s>", seconds from the interpreter's start.
# Usage: bash bench/window_startup.sh [RUNS]   (needs xvfb-run: apt-get install xvfb)
set -u
cd "$(dirname "$0")/.."
RUNS=${1:-5}
PY=${PYTHON:-.venv/bin/python}
Q="When did Russia receive the first shipment?"
RETURNING=$(mktemp -d)
QA_APP_HOME=$RETURNING "$PY" -m qa_app.cli list >/dev/null 2>&1  # builds the demo library
for kind in returning new; do
  for i in $(seq "$RUNS"); do
    if [ "$kind" = new ]; then home=$(mktemp -d); else home=$RETURNING; fi
    QA_APP_HOME=$home QA_APP_SMOKE_QUESTION="$Q" QA_APP_SMOKE_EXPECT="earlier this month" \
      QA_APP_SMOKE_TIMEOUT=120 PY="$PY" \
      xvfb-run -a -s "-screen 0 1440x900x24" sh -c 'QA_APP_SMOKE_T0=$(date +%s.%N) exec "$PY" packaging/gui_smoke.py' \
      2>/dev/null | grep -E "SMOKE-(WINDOW-SHOWN|ANSWER|FAIL)" | sed "s/^/$kind $i /"
  done
done
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
