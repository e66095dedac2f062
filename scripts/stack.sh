#!/usr/bin/env bash
# ./wharf stack up [--workers N] | down | status | compose ARGS...: the compose stack of deploy/compose on this host.
#   up       builds the images if missing, starts everything, waits until every service is healthy, makes an admin
#            API key (once) and prints where things listen. --workers N (default 1) scales the workers; `up` again
#            with another N rescales them.
#   down     stops and removes the stack's containers, volumes and host directory (draining workers first).
#   status   the services, their state and health.
#   compose  any docker-compose command on the stack (logs -f worker, kill broker-2, start broker-2, ...).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
. "$ROOT/scripts/env.sh"
export WHARF_STACK_DIR="${WHARF_STACK_DIR:-/tmp/wharf-stack}"
PROJECT="${WHARF_STACK_PROJECT:-wharf}"
compose() { docker-compose -p "$PROJECT" -f "$ROOT/deploy/compose/docker-compose.yml" "$@"; }
GATEWAY=http://127.0.0.1:18080

healthy_all() { # every running container of the stack healthy (one-shot ones exited 0)
  local ids id state
  ids=$(compose ps -q)
  [ -n "$ids" ] || return 1
  for id in $ids; do
    state=$(docker inspect -f '{{.State.Status}} {{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}} {{.State.ExitCode}}' "$id")
    case "$state" in
      "running healthy "*|"exited "*" 0") ;;
      *) return 1 ;;
    esac
  done
}

case "${1:-}" in
  up)
    shift
    workers=1
    while [ $# -gt 0 ]; do
      case "$1" in
        --workers) workers="$2"; shift 2 ;;
        --scale) workers="${2#worker=}"; shift 2 ;;
        *) echo "wharf stack up: unknown option $1 (--workers N)" >&2; exit 2 ;;
      esac
    done
    ensure_compose
    ensure_docker
    if ! docker image inspect wharf/wharf:latest wharf/registry:latest wharf/prometheus:latest >/dev/null 2>&1; then
      bash "$ROOT/scripts/images.sh"
    fi
    # Written by the workers' user (10001): job work directories, and Prometheus's target files.
    mkdir -p "$WHARF_STACK_DIR/work" "$WHARF_STACK_DIR/targets"
    if [ "$(id -u)" = 0 ]; then chown -R 10001:10001 "$WHARF_STACK_DIR"; else chmod 0777 "$WHARF_STACK_DIR" "$WHARF_STACK_DIR/work" "$WHARF_STACK_DIR/targets"; fi
    WHARF_DOCKER_GID=$(stat -c %g /var/run/docker.sock)
    export WHARF_DOCKER_GID
    compose up -d --scale worker="$workers" >&2
    begin=$SECONDS
    until healthy_all; do
      if [ $((SECONDS - begin)) -gt 300 ]; then
        echo "wharf stack: not every service became healthy within 300 s:" >&2
        compose ps >&2
        exit 1
      fi
      sleep 2
    done
    key="$WHARF_STACK_DIR/targets/admin.key"
    if [ ! -s "$key" ]; then
      (umask 077; compose run --rm --no-deps topics apikey create --tenant default --admin --description "wharf stack" 2>/dev/null > "$key.tmp")
      mv "$key.tmp" "$key"
      [ "$(id -u)" = 0 ] && chown 10001:10001 "$key"
    fi
    echo "Wharf stack is up ($workers worker(s), healthy after $((SECONDS - begin)) s)."
    echo "  Kafka bootstrap   127.0.0.1:19092,127.0.0.1:19093,127.0.0.1:19094"
    echo "  Schema registry   http://127.0.0.1:18081/apis/ccompat/v7"
    echo "  Gateway           $GATEWAY   (admin key in $key)"
    echo "  Prometheus        http://127.0.0.1:19090"
    echo "Try: curl -H \"Authorization: Bearer \$(cat $key)\" $GATEWAY/v1/functions"
    ;;
  down)
    ensure_compose
    compose down -v --remove-orphans >&2
    rm -rf "$WHARF_STACK_DIR"
    ;;
  status)
    ensure_compose
    compose ps
    ;;
  compose)
    shift
    ensure_compose
    WHARF_DOCKER_GID=$(stat -c %g /var/run/docker.sock)
    export WHARF_DOCKER_GID
    compose "$@"
    ;;
  *)
    sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
    ;;
esac
