#!/usr/bin/env bash
# The fuzzing drill's virtualenv: schemathesis from PyPI at the exact pins of requirements.txt,
# outside the repository in ${XDG_CACHE_HOME:-$HOME/.cache}/tracebridge/venv/drills-<hash of
# requirements.txt>. Idempotent: a complete virtualenv is reused; a half-built one is rebuilt.
# Prints the path of the schemathesis CLI (st) on stdout; progress goes to stderr.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
requirements="$here/requirements.txt"
hash="$(sha256sum "$requirements" | cut -c1-16)"
venv="${XDG_CACHE_HOME:-$HOME/.cache}/tracebridge/venv/drills-$hash"
python="${PYTHON:-python3}"

mkdir -p "$(dirname "$venv")"
exec 9>"$venv.lock"
flock 9
if [ ! -f "$venv/.complete" ]; then
  echo "fuzz/setup.sh: creating $venv (schemathesis from PyPI, pinned in $requirements)" >&2
  rm -rf "$venv"
  "$python" -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input --no-deps -r "$requirements" >&2
  "$venv/bin/python" -m pip check >&2
  touch "$venv/.complete"
fi
echo "$venv/bin/st"
