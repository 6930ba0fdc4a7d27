#!/usr/bin/env bash
# A Docker engine of the project's own, for the docker-build / docker-push work kinds.
#
#   scripts/docker-env.sh up      install (if missing) and start dockerd; idempotent
#   scripts/docker-env.sh down    stop exactly what `up` started (pid file) and remove its state
#   scripts/docker-env.sh status  say what runs and where it listens
#
# Everything lives under $QUEUEBENCH_DOCKER_DIR (default: .docker-env/ in the project, git
# ignored): data, exec state, pid file, log and the engine's unix socket. The engine never
# binds a TCP port and sets up no network (no bridge, no iptables): images are FROM scratch,
# so nothing is pulled, and the only registries pushed to are the per-trial ones the
# docker-push kind starts on 127.0.0.1 (dockerd trusts 127.0.0.0/8 as insecure by default).
# The registry binary (docker-registry) is installed here; each trial runs its own, so a
# trial's registry data is removed with it.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
DIR="${QUEUEBENCH_DOCKER_DIR:-$ROOT/.docker-env}"
SOCK="$DIR/docker.sock"
PIDFILE="$DIR/dockerd.pid"
LOG="$DIR/dockerd.log"

say() { printf 'docker-env: %s\n' "$*"; }
die() { printf 'docker-env: %s\n' "$*" >&2; exit 1; }

running_pid() {  # the pid in a pid file, if that process is alive
    local pid
    [[ -f "$1" ]] || return 1
    pid="$(cat "$1" 2>/dev/null)" || return 1
    [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null && echo "$pid"
}

install_if_missing() {
    command -v dockerd >/dev/null && command -v docker-registry >/dev/null && return 0
    command -v apt-get >/dev/null || die "dockerd or docker-registry missing and no apt-get to install them: install docker.io and docker-registry"
    [[ "$(id -u)" == 0 ]] || die "dockerd or docker-registry missing: run as root to install them (apt-get install docker.io docker-registry)"
    say "installing docker.io and docker-registry (apt-get, about 40 s)"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    # The package's post-install tries to start services; there is no init system to start them here.
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends docker.io docker-registry >/dev/null
}

engine_answers() {
    # The engine's API on its socket, without needing the docker CLI: GET /_ping answers "OK".
    python3 - "$SOCK" <<'PY' 2>/dev/null
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(2)
s.connect(sys.argv[1])
s.sendall(b"GET /_ping HTTP/1.0\r\nHost: docker\r\n\r\n")
data = b""
while chunk := s.recv(4096):
    data += chunk
sys.exit(0 if data.startswith(b"HTTP/1.") and b" 200 " in data.split(b"\r\n", 1)[0] + b" " else 1)
PY
}

up() {
    install_if_missing
    mkdir -p "$DIR"
    if pid="$(running_pid "$PIDFILE")" && engine_answers; then
        say "dockerd already running (pid $pid)"
    else
        [[ "$(id -u)" == 0 ]] || die "dockerd needs root: run make docker as root"
        rm -f "$SOCK" "$PIDFILE"
        # vfs: no overlay mounts needed (works inside containers); no bridge/iptables/forwarding:
        # the engine touches no network of the machine's.
        setsid dockerd \
            --data-root "$DIR/data" --exec-root "$DIR/exec" --pidfile "$PIDFILE" \
            --host "unix://$SOCK" --storage-driver=vfs \
            --iptables=false --ip6tables=false --bridge=none --ip-forward=false --ip-masq=false \
            --log-level=warn >"$LOG" 2>&1 </dev/null &
        for _ in $(seq 1 100); do
            engine_answers && break
            kill -0 $! 2>/dev/null || die "dockerd exited; its log: $LOG ($(tail -n 1 "$LOG"))"
            sleep 0.2
        done
        engine_answers || die "dockerd did not answer on $SOCK within 20 s; its log: $LOG"
        say "dockerd started (pid $(cat "$PIDFILE"))"
    fi
    status
}

down() {
    local pid stopped=0
    # Per-trial registries and proxies normally stop with their trial; any a killed trial left behind
    # recorded its pid under trials/.
    for f in "$DIR"/trials/*/*.pid; do
        [[ -e "$f" ]] || continue
        if pid="$(running_pid "$f")"; then kill "$pid" 2>/dev/null || true; fi
    done
    if pid="$(running_pid "$PIDFILE")"; then
        kill "$pid"
        for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
        if kill -0 "$pid" 2>/dev/null; then kill -9 "$pid" 2>/dev/null || true; fi
        stopped=1
        say "dockerd (pid $pid) stopped"
    fi
    if [[ -d "$DIR" ]]; then
        # Anything the engine mounted under its roots must go before the files do.
        grep -o " $DIR/[^ ]*" /proc/self/mounts 2>/dev/null | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
        rm -rf "$DIR"
        say "removed $DIR"
    elif [[ $stopped == 0 ]]; then
        say "nothing to stop"
    fi
}

status() {
    local pid
    if pid="$(running_pid "$PIDFILE")" && engine_answers; then
        say "dockerd pid $pid listening on unix://$SOCK (no TCP port)"
        say "for the SDK: export QUEUEBENCH_DOCKER_HOST=unix://$SOCK (the kinds use this socket by default)"
        say "registry: docker-registry $(docker-registry --version 2>/dev/null | awk '{print $3}'), one per trial on 127.0.0.1, behind the stalling proxy"
        say "disk used by $DIR: $(du -sh "$DIR" 2>/dev/null | cut -f1)"
    else
        say "dockerd not running (socket unix://$SOCK); start it with: make docker"
        return 3
    fi
}

case "${1:-}" in
    up) up ;;
    down) down ;;
    status) status ;;
    *) die "usage: $0 up|down|status" ;;
esac
