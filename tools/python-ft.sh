#!/usr/bin/env bash
# Build a free-threaded CPython 3.13 (--disable-gil) from Debian's python3.13 source package
# into a cache outside the clone, and print the interpreter's path. Reused when present.
#
#   tools/python-ft.sh            build if needed, print .../bin/python3.13t
#   tools/python-ft.sh --path     print the path only if the build is present (exit 1 if not)
#
# QUEUEBENCH_FT_PREFIX overrides the install prefix
# (default: ${XDG_CACHE_HOME:-$HOME/.cache}/queuebench/python3.13t).
# Needs apt (root) the first time: the source suite's deb-src line goes into an apt sources
# file of our own; the C toolchain and the -dev libraries come from the system's own suite.
set -euo pipefail

PREFIX="${QUEUEBENCH_FT_PREFIX:-${XDG_CACHE_HOME:-$HOME/.cache}/queuebench/python3.13t}"
PY="$PREFIX/bin/python3.13t"
DONE="$PREFIX/.queuebench-complete"
SRC_LIST=/etc/apt/sources.list.d/queuebench-trixie-src.list
SRC_LINE="deb-src http://deb.debian.org/debian trixie main"
BUILD_DEPS=(gcc make pkg-config libssl-dev zlib1g-dev libffi-dev libbz2-dev liblzma-dev
            libsqlite3-dev libreadline-dev libncurses-dev uuid-dev xz-utils)

present() {
    [[ -f "$DONE" && -x "$PY" ]] && [[ "$("$PY" -c 'import sys; print(sys._is_gil_enabled())' 2>/dev/null)" == False ]]
}

if [[ "${1:-}" == "--path" ]]; then
    present && { echo "$PY"; exit 0; }
    exit 1
fi
if present; then
    echo "$PY"
    exit 0
fi

log() { echo "python-ft: $*" >&2; }
mkdir -p "$(dirname "$PREFIX")"
# One build at a time: a second caller waits for the first and then reuses its result.
exec 9>"$PREFIX.lock"
flock 9
if present; then
    echo "$PY"
    exit 0
fi

SUDO=()
[[ "$(id -u)" == 0 ]] || SUDO=(sudo)
if [[ ! -f "$SRC_LIST" ]]; then
    log "adding $SRC_LIST"
    echo "$SRC_LINE" | "${SUDO[@]}" tee "$SRC_LIST" >/dev/null
fi
log "apt-get update (the source suite only)"
"${SUDO[@]}" apt-get update -qq -o Dir::Etc::sourcelist="$SRC_LIST" -o Dir::Etc::sourceparts=- \
    -o APT::Get::List-Cleanup=0 >&2
missing=()
for pkg in "${BUILD_DEPS[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if (( ${#missing[@]} )); then
    log "installing build dependencies: ${missing[*]}"
    "${SUDO[@]}" apt-get install -y -qq "${missing[@]}" >&2
fi

WORK="$(mktemp -d "${TMPDIR:-/tmp}/queuebench-python-ft.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
trap 'exit 1' TERM INT  # a timed-out build still cleans up (the prefix stays unmarked: rebuilt next time)
cd "$WORK"
log "apt-get source python3.13 into $WORK"
apt-get source --download-only -qq python3.13 >&2
# The upstream tarball of the source package: CPython as released, without Debian's
# packaging patches (which change install layouts for the system Python).
orig=$(ls python3.13_*.orig.tar.* | head -n1)
tar xf "$orig"
cd "$(find . -maxdepth 1 -type d -name 'Python-3.13*' | head -n1)"
log "building $(basename "$PWD") with --disable-gil into $PREFIX (about 11 minutes on 2 idle cores)"
rm -rf "$PREFIX"
./configure --disable-gil --prefix="$PREFIX" --with-ensurepip=install >"$WORK/configure.log" 2>&1 \
    || { tail -n 30 "$WORK/configure.log" >&2; exit 1; }
make -j"$(nproc)" >"$WORK/make.log" 2>&1 || { tail -n 40 "$WORK/make.log" >&2; exit 1; }
make install >"$WORK/install.log" 2>&1 || { tail -n 40 "$WORK/install.log" >&2; exit 1; }
gil="$("$PY" -c 'import sys; print(sys._is_gil_enabled())')"
if [[ "$gil" != False ]]; then
    log "built, but sys._is_gil_enabled() is $gil: not a free-threaded build"
    exit 1
fi
touch "$DONE"
log "done: $("$PY" -VV)"
echo "$PY"
