#!/usr/bin/env bash
# Peer comparison: papersite beside Hugo and Pelican, timed by the shared harness
# (../shared/bench/run_peers.sh, read-only) in one run, then its summary table.
#
#   bash bench/peers.sh                      # 1,000 and 10,000 papers, 3 runs each
#   SIZES=1000 RUNS=1 bash bench/peers.sh    # quick pass
#
# (the harness runs `sh -c "exec $OURS_CMD"`, so the command must be one program: `env -C`.)
# papersite is measured with `build --no-search` (the peers build no search index) on the
# harness's corpus (txt/style003: the listing layout with titles and full author lists).
# Any run_peers.sh knob (SIZES, RUNS, BIG, TOOLS, PAGEFIND, WORK, CORPUS, OUT) passes through;
# WORK defaults to /tmp/peers-papersite so a baseline in /tmp/peers is left alone.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
HARNESS=${HARNESS:-$REPO/../shared/bench/run_peers.sh}
PY=${PY:-$REPO/.venv/bin/python}
[[ -x $PY ]] || PY=python3
[[ -f $HARNESS ]] || { echo "peers.sh: no harness at $HARNESS (set HARNESS=...)" >&2; exit 2; }

export WORK=${WORK:-/tmp/peers-papersite}
export SIZES=${SIZES-"1000 10000"}
export RUNS=${RUNS:-3}
export BIG=${BIG-}
export PAGEFIND=${PAGEFIND:-0}
export TOOLS=${TOOLS:-"hugo pelican"}
# Cold builds like the peers' (the harness clears Hugo's cache too): the build cache goes first.
# generator/'s bytecode first, as `make` writes it (this machine sets PYTHONDONTWRITEBYTECODE)
"$PY" -m compileall -q "$REPO/generator" >/dev/null || true
export OURS_CMD=${OURS_CMD:-"env -C $REPO sh -c 'rm -rf .papersite-cache && exec $PY -m generator build --no-search -q --seeds {corpus}/txt/style003 --out {out}'"}

bash "$HARNESS"
cat "$WORK/results.md"
