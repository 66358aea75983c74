#!/usr/bin/env bash
# Starts/stops the Kafka-protocol brokers the Kafka connector's tests use:
# tansu (https://crates.io/crates/tansu) with in-memory storage, on loopback.
#   plain broker  127.0.0.1:${PATCHBAY_KAFKA_PORT:-19092}       (open)
#   SASL broker   127.0.0.1:${PATCHBAY_KAFKA_SASL_PORT:-19093}  (--authentication)
#   SCRAM broker  127.0.0.1:${PATCHBAY_KAFKA_SCRAM_PORT:-19095} (--authentication,
#                 Postgres storage, with a SCRAM-SHA-256 user patchbay-scram)
# (the next free port, in steps of 10, when another process holds one).
# The addresses and the binary are written to target/kafka-broker.env, which
# the tests read. Both commands are idempotent. Exports nothing.
set -euo pipefail
cd "$(dirname "$0")/../.."

STATE=target/kafka-broker
ENV_FILE=target/kafka-broker.env
PLAIN_PORT="${PATCHBAY_KAFKA_PORT:-19092}"
SASL_PORT="${PATCHBAY_KAFKA_SASL_PORT:-19093}"
SCRAM_ADMIN_PORT="${PATCHBAY_KAFKA_SCRAM_ADMIN_PORT:-19094}"
SCRAM_PORT="${PATCHBAY_KAFKA_SCRAM_PORT:-19095}"
# SCRAM users need storage two brokers share: the local Postgres, in a
# database of its own, created on start and dropped on stop. Named after
# the checkout, so checkouts sharing one Postgres do not drop each other's.
CHECKOUT=$(basename "$PWD" | tr -c 'a-zA-Z0-9\n' '_' | tr 'A-Z' 'a-z' | cut -c1-30)
PG_DB="${PATCHBAY_KAFKA_PG_DB:-patchbay_kafka_test_$CHECKOUT}"
PG_URL="postgres://postgres@127.0.0.1:5432/$PG_DB?sslmode=disable"
SCHEMA=crates/patchbay-connector-kafka/tansu/postgres.sql
psql_() { psql -h 127.0.0.1 -U postgres -v ON_ERROR_STOP=1 -qtA "$@"; }

find_tansu() {
  if [ -x /opt/patchbay-tools/bin/tansu ]; then echo /opt/patchbay-tools/bin/tansu
  elif command -v tansu >/dev/null 2>&1; then command -v tansu
  else return 1; fi
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

alive() { [ -f "$STATE/$1.pid" ] && kill -0 "$(cat "$STATE/$1.pid")" 2>/dev/null; }

# Starts broker NAME on PORT (or the next free port when another process
# holds it) and prints the port it listens on.
start_one() { # name port storage-url extra-args...
  local name=$1 port=$2 storage=$3; shift 3
  if alive "$name" && [ -f "$STATE/$name.port" ] && port_open "$(cat "$STATE/$name.port")"; then
    cat "$STATE/$name.port"; return 0
  fi
  stop_one "$name"
  local tries=0
  while port_open "$port"; do
    port=$((port + 10)); tries=$((tries + 1))
    if [ "$tries" -gt 50 ]; then echo "kafka.sh: no free port for $name" >&2; return 1; fi
  done
  nohup "$TANSU" broker \
    --listener-url "tcp://127.0.0.1:$port" \
    --advertised-listener-url "tcp://127.0.0.1:$port" \
    --storage-engine "$storage" "$@" \
    >"$STATE/$name.log" 2>&1 </dev/null &
  echo $! >"$STATE/$name.pid"
  echo "$port" >"$STATE/$name.port"
  for _ in $(seq 1 100); do
    if port_open "$port"; then echo "$port"; return 0; fi
    alive "$name" || break
    sleep 0.1
  done
  echo "kafka.sh: tansu broker $name did not start; log:" >&2
  tail -20 "$STATE/$name.log" >&2
  return 1
}

stop_one() {
  local name=$1
  if alive "$name"; then
    local pid; pid=$(cat "$STATE/$name.pid")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$STATE/$name.pid" "$STATE/$name.port"
}

# An open broker and an authenticating one on one Postgres database: the
# user is created through the open one (the other refuses unauthenticated
# admin requests), then the open one is stopped. Prints the env lines.
start_scram() {
  if [ -f "$STATE/scram.env" ] && alive scram && port_open "$(cat "$STATE/scram.port")"; then
    cat "$STATE/scram.env"; return 0
  fi
  if ! command -v psql >/dev/null 2>&1 || ! psql_ -d postgres -c 'select 1' >/dev/null 2>&1; then
    echo "kafka.sh: Postgres unreachable on 127.0.0.1:5432; no SCRAM broker" >&2
    return 0
  fi
  stop_scram
  psql_ -d postgres -c "create database $PG_DB" >/dev/null
  psql_ -d "$PG_DB" -f "$SCHEMA" >/dev/null
  local admin scram password
  # Not fatal: the other brokers and services still serve their tests.
  admin=$(start_one scram-admin "$SCRAM_ADMIN_PORT" "$PG_URL" --cluster-id patchbay-scram) || return 0
  scram=$(start_one scram "$SCRAM_PORT" "$PG_URL" --cluster-id patchbay-scram --authentication) || return 0
  password=$(head -c 18 /dev/urandom | base64 | tr -dc 'A-Za-z0-9')
  if ! "$TANSU" user create --broker "tcp://127.0.0.1:$admin" patchbay-scram "$password" \
    --mechanism scram256 >"$STATE/scram-user.log" 2>&1; then
    echo "kafka.sh: creating the SCRAM user failed:" >&2
    cat "$STATE/scram-user.log" >&2
  fi
  stop_one scram-admin
  printf 'PATCHBAY_TEST_KAFKA_SCRAM=127.0.0.1:%s\nPATCHBAY_TEST_KAFKA_SCRAM_USER=patchbay-scram\nPATCHBAY_TEST_KAFKA_SCRAM_PASSWORD=%s\n' \
    "$scram" "$password" | tee "$STATE/scram.env"
}

stop_scram() {
  stop_one scram-admin
  stop_one scram
  rm -f "$STATE/scram.env"
  if command -v psql >/dev/null 2>&1; then
    psql_ -d postgres -c "drop database if exists $PG_DB with (force)" >/dev/null 2>&1 || true
  fi
}

case "${1:-}" in
  start)
    if ! TANSU=$(find_tansu); then
      # Not fatal here, so other services and tests still run; the Kafka
      # tests fail under CI=true (patchbay_testkit::net::require).
      echo "kafka.sh: tansu not installed; run .ci/install/tansu.sh" >&2
      exit 0
    fi
    mkdir -p "$STATE"
    plain=$(start_one plain "$PLAIN_PORT" memory://tansu/ --cluster-id patchbay-plain)
    sasl=$(start_one sasl "$SASL_PORT" memory://tansu/ --cluster-id patchbay-sasl --authentication)
    scram=$(start_scram)
    cat >"$ENV_FILE" <<ENV
PATCHBAY_TEST_KAFKA=127.0.0.1:$plain
PATCHBAY_TEST_KAFKA_SASL=127.0.0.1:$sasl
PATCHBAY_TANSU=$TANSU
$scram
ENV
    ;;
  stop)
    stop_one plain
    stop_one sasl
    stop_scram
    rm -f "$ENV_FILE"
    ;;
  *)
    echo "usage: $0 start|stop" >&2
    exit 2
    ;;
esac
