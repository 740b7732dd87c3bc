#!/usr/bin/env bash
# Creates (once) the virtualenv of the bench's FastAPI peer from requirements.txt and prints
# its python's path. Idempotent: the venv lives outside the repository, in
#   ${XDG_CACHE_HOME:-$HOME/.cache}/tracebridge/venv/bench-<first 16 hex of sha256(requirements.txt)>
# so a changed requirements.txt gets a new venv and an unchanged one is reused as is. A venv
# whose install did not finish (no .complete marker) is rebuilt. Concurrent runs wait on a lock.
# Progress goes to stderr; stdout is only the path. PYTHON overrides the interpreter (>= 3.10).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
requirements="$here/requirements.txt"
python=${PYTHON:-python3}

command -v "$python" >/dev/null 2>&1 || { echo "bench peer: $python not found; install Python >= 3.10" >&2; exit 1; }
"$python" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else 1)' \
  || { echo "bench peer: $("$python" --version 2>&1) is older than 3.10" >&2; exit 1; }

hash=$(sha256sum "$requirements" | cut -c1-16)
cache=${XDG_CACHE_HOME:-$HOME/.cache}/tracebridge/venv
venv="$cache/bench-$hash"
mkdir -p "$cache"

exec 9>"$venv.lock"
flock 9

if [ ! -f "$venv/.complete" ]; then
  echo "bench peer: creating $venv from $requirements (PyPI)" >&2
  rm -rf "$venv"
  "$python" -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input -r "$requirements" >&2
  "$venv/bin/python" -c 'import fastapi, sqlalchemy, asyncpg, uvicorn, uvloop, httptools, opentelemetry.sdk' >&2
  touch "$venv/.complete"
  echo "bench peer: ready ($("$venv/bin/python" --version 2>&1))" >&2
fi
echo "$venv/bin/python"
