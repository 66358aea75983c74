#!/usr/bin/env bash
# Load test of the HTTP API (run by hand; needs `wrk`, in Debian).
#
# Starts the release server example over a fresh SQLite database, stores
# $PROFILES profiles through the API, captures the bytes of one
# `GET /connection_profiles/{id}` and of a 100-item `GET /connection_profiles`,
# starts examples/bench_baseline.rs (bare axum answering those same bytes),
# then runs wrk with $CONNS connections against each route of each server, in
# the same run. Prints requests/s, p50, p99, the ratio to the baseline and
# the API server's peak memory (VmHWM).
#
#   benches/http_load.sh                 # 10,000 profiles, 64 connections, 15 s
#   DURATION=30s CONNS=64 benches/http_load.sh
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-15s}
CONNS=${CONNS:-64}
THREADS=${THREADS:-2}
PROFILES=${PROFILES:-10000}
command -v wrk >/dev/null || { echo "wrk is required (apt-get install wrk)" >&2; exit 1; }

cargo build --release --quiet --example server --example bench_baseline
bin="${CARGO_TARGET_DIR:-target}/release/examples"
tmp=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT

wait_url() { # file pattern pid
  for _ in $(seq 1 300); do
    url=$(sed -n "s/^$2 \(http[^ ]*\)$/\1/p" "$1")
    [ -n "$url" ] && { echo "$url"; return; }
    kill -0 "$3" 2>/dev/null || { echo "server exited" >&2; exit 1; }
    sleep 0.2
  done
  echo "server not ready" >&2; exit 1
}

RUST_LOG=warn "$bin/server" --listen 127.0.0.1:0 --database-url "sqlite://$tmp/bench.db" \
  >"$tmp/server.out" 2>"$tmp/server.log" &
spid=$!; pids+=("$spid")
api=$(wait_url "$tmp/server.out" "patchbay listening on" "$spid")
# The same API over the memory store: separates the adapter's cost from the store's.
RUST_LOG=warn "$bin/server" --listen 127.0.0.1:0 --database-url memory: \
  >"$tmp/mem.out" 2>"$tmp/mem.log" &
mpid=$!; pids+=("$mpid")
mem=$(wait_url "$tmp/mem.out" "patchbay listening on" "$mpid")

seed() {
echo "storing $PROFILES profiles through $1 ..." >&2
python3 - "$1" "$PROFILES" <<'PY'
import http.client, json, sys, threading, urllib.parse
api, total = sys.argv[1], int(sys.argv[2])
u = urllib.parse.urlparse(api)
def work(start, step):
    c = http.client.HTTPConnection(u.hostname, u.port)
    for i in range(start, total, step):
        body = json.dumps({"name": f"bench-{i:05d}", "connector": "postgres",
            "description": "load test profile",
            "config": {"host": "127.0.0.1", "port": 5432, "database": "test",
                       "username": "postgres", "password": "bench-secret"}})
        c.request("POST", u.path + "/connection_profiles", body, {"content-type": "application/json"})
        r = c.getresponse(); r.read()
        assert r.status == 201, r.status
threads = [threading.Thread(target=work, args=(k, 8)) for k in range(8)]
[t.start() for t in threads]; [t.join() for t in threads]
PY
}
seed "$api"
seed "$mem"

first_id() { curl -sf "$1/connection_profiles?prefix=bench-05000&limit=1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["data"][0]["id"])'; }
id=$(first_id "$api")
mid=$(first_id "$mem")
curl -sf "$api/connection_profiles/$id" -o "$tmp/one.json"
curl -sf "$api/connection_profiles?prefix=bench-04&limit=100" -o "$tmp/list.json"
n=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["data"]))' "$tmp/list.json")
[ "$n" = 100 ] || { echo "list has $n items, not 100" >&2; exit 1; }

"$bin/bench_baseline" 127.0.0.1:0 "$tmp/one.json" "$tmp/list.json" >"$tmp/base.out" 2>&1 &
bpid=$!; pids+=("$bpid")
base=$(wait_url "$tmp/base.out" "baseline listening on" "$bpid")/api/v1

run() { # name url
  wrk -t"$THREADS" -c"$CONNS" -d3s "$2" >/dev/null # warm-up
  out=$(wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" --latency "$2")
  rps=$(awk '/^Requests\/sec/ {print $2}' <<<"$out")
  p50=$(awk '$1=="50%" {print $2}' <<<"$out")
  p99=$(awk '$1=="99%" {print $2}' <<<"$out")
  errs=$(awk '/Non-2xx|Socket errors/' <<<"$out")
  [ -z "$errs" ] || { echo "$1: $errs" >&2; exit 1; }
  echo "$1|$rps|$p50|$p99"
}

one_api=$(run "patchbay + SQLite, GET /connection_profiles/{id}" "$api/connection_profiles/$id")
one_mem=$(run "patchbay + memory store, same route" "$mem/connection_profiles/$mid")
one_base=$(run "bare axum, same bytes" "$base/connection_profiles/$id")
list_api=$(run "patchbay + SQLite, GET /connection_profiles (100 items)" "$api/connection_profiles?prefix=bench-04&limit=100")
list_mem=$(run "patchbay + memory store, same route" "$mem/connection_profiles?prefix=bench-04&limit=100")
list_base=$(run "bare axum, same bytes" "$base/connection_profiles")
peak=$(awk '/VmHWM/ {print $2 " " $3}' "/proc/$spid/status")
mpeak=$(awk '/VmHWM/ {print $2 " " $3}' "/proc/$mpid/status")

ratio() { python3 -c "import sys; print(f'{float(sys.argv[1])/float(sys.argv[2]):.2f}x')" "$1" "$2"; }
echo
echo "wrk -t$THREADS -c$CONNS -d$DURATION, $PROFILES profiles in SQLite, $(nproc) cores shared by wrk and the server"
echo
echo "| route | requests/s | p50 | p99 | vs bare axum |"
echo "|---|---|---|---|---|"
for triple in "$one_api;$one_mem;$one_base" "$list_api;$list_mem;$list_base"; do
  IFS=';' read -r a m b <<<"$triple"
  IFS='|' read -r bn br b50 b99 <<<"$b"
  for row in "$a" "$m"; do
    IFS='|' read -r an ar a50 a99 <<<"$row"
    echo "| $an | $ar | $a50 | $a99 | $(ratio "$ar" "$br") |"
  done
  echo "| $bn | $br | $b50 | $b99 | 1.00x |"
done
echo
echo "peak memory (VmHWM) with $PROFILES profiles: SQLite server $peak, memory-store server $mpeak"
echo "bytes: one profile $(wc -c <"$tmp/one.json"), list $(wc -c <"$tmp/list.json")"
