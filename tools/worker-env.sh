#!/usr/bin/env bash
# Prepare an interpreter for the optional strategies: a venv of THAT interpreter under
# .venvs/<name>/ with the packages the optional strategies import in the worker
# (uvloop; the PEP 734 backport on 3.12/3.13), each only where it installs. Prints the
# venv's python, to pass to `queuebench --python`. Idempotent: an up-to-date venv is reused.
#
#   tools/worker-env.sh /root/.pyenv/versions/3.13.0/bin/python3.13
#
# The worker needs nothing else: it runs with the repository on PYTHONPATH
# (harness/running/launchers/local.py), standard library only apart from these.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${1:?usage: tools/worker-env.sh /path/to/python}"
command -v "$PYTHON" >/dev/null || { echo "worker-env: cannot run $PYTHON: not found" >&2; exit 2; }
# Found is not runnable: a pyenv shim for a version not installed is on PATH and fails when run.
# Say so in one line and exit 2, printing nothing on stdout, so `--python "$(make -s worker-env ...)"`
# stops here rather than passing an empty argument on.
if ! why="$("$PYTHON" -c 'import sys' 2>&1)"; then
    echo "worker-env: cannot run $PYTHON ($(printf '%s' "$why" | head -n 1)); install it or name another interpreter" >&2
    exit 2
fi
# name: implementation, version and ABI flags, e.g. cpython-3.13.0 or cpython-3.13.5t
name="$("$PYTHON" -c 'import sys, sysconfig; print(f"{sys.implementation.name}-{sys.version.split()[0]}" + ("t" if sysconfig.get_config_var("Py_GIL_DISABLED") else ""))')"
minor="$("$PYTHON" -c 'import sys; print(sys.version_info[1])')"
venv=".venvs/$name"
py="$PWD/$venv/bin/python"

# What each package is for, and where it is wanted (pip only, binary wheels where possible).
wanted=("uvloop>=0.19,<1")  # a wheel only (see --only-binary below): no libuv build from source
if (( minor == 12 || minor == 13 )); then
    wanted+=("interpreters-pep-734>=0.5")
fi
if (( minor == 12 )); then
    wanted+=("interpreters-3-12>=0.5")  # the low-level modules 3.12 lacks (builds from source)
fi
stamp="$venv/.queuebench-packages"
want_line="$("$PYTHON" -c 'import sys; print(sys.executable)') ${wanted[*]}"

log() { echo "worker-env: $*" >&2; }
if [[ -x "$py" && -f "$stamp" && "$(cat "$stamp")" == "$want_line" ]]; then
    log "$venv is up to date"
    echo "$py"
    exit 0
fi
if [[ ! -x "$py" ]] || ! "$py" -c '' 2>/dev/null; then
    log "creating $venv from $PYTHON"
    rm -rf "$venv"
    "$PYTHON" -m venv "$venv"
fi
for req in "${wanted[@]}"; do
    only_binary=(); [[ "$req" == uvloop* ]] && only_binary=(--only-binary=uvloop)
    if "$py" -m pip install --quiet --disable-pip-version-check "${only_binary[@]}" "$req" >>"$venv/pip.log" 2>&1; then
        log "installed $req"
    else
        log "not installed: $req (pip failed; see $venv/pip.log); the strategies needing it stay unavailable here"
    fi
done
# interpreters-3-12 is a C extension built against CPython's internals: keep it only if
# importing the backport does not crash this interpreter (it segfaults under 3.12.1 here).
if "$py" -m pip show --quiet interpreters-3-12 >/dev/null 2>&1 \
    && ! ( "$py" -c 'import interpreters_backport.interpreters' ) >/dev/null 2>&1; then
    log "importing the backport crashes $("$py" -V): removed interpreters-3-12; subinterpreters stay unavailable here"
    "$py" -m pip uninstall --quiet --yes interpreters-3-12 >&2
fi
echo "$want_line" >"$stamp"
echo "$py"
