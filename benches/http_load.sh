#!/usr/bin/env bash
# Load test of the HTTP API (run by hand; needs `wrk`, in Debian).
#
# Starts the release server example three times — over SQLite as shipped,
# over SQLite with the response cache off (`--response-cache-bytes 0`, every
# read goes to the store), and over the memory store — stores $PROFILES
# profiles in each through the API, captures the bytes of one
# `GET /connection_profiles/{id}` and of a 100-item `GET /connection_profiles`,
# and starts examples/bench_baseline.rs: bare axum answering those same bytes.
#
# The machine is shared, so throughput drifts between runs seconds apart. Each
# route is therefore measured in $ROUNDS alternating rounds (every server
# once per round, each round starting with the next server); the tables give the median requests/s, p50 and
# p99 of each server and the median of the per-round ratios to the baseline.
# Beside them, each server's own CPU time per request (utime + stime from
# /proc ÷ requests served): an efficiency figure the drift hardly moves.
# Ends with the peak memory (VmHWM) of the servers holding $PROFILES profiles.
#
#   benches/http_load.sh                       # 10,000 profiles, 64 connections, 5 × 8 s
#   ROUNDS=5 DURATION=15s benches/http_load.sh
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-8s}
ROUNDS=${ROUNDS:-5}
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

declare -A url pid
start() { # name database-url extra-args...
  local name=$1 db=$2; shift 2
  RUST_LOG=warn "$bin/server" --listen 127.0.0.1:0 --database-url "$db" "$@" \
    >"$tmp/$name.out" 2>"$tmp/$name.log" &
  pid[$name]=$!; pids+=("$!")
  url[$name]=$(wait_url "$tmp/$name.out" "patchbay listening on" "$!")
}
start sqlite "sqlite://$tmp/bench.db"
start uncached "sqlite://$tmp/uncached.db" --response-cache-bytes 0
start memory memory:

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
for s in sqlite uncached memory; do seed "${url[$s]}"; done

declare -A one
for s in sqlite uncached memory; do
  one[$s]=$(curl -sf "${url[$s]}/connection_profiles?prefix=bench-05000&limit=1" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["data"][0]["id"])')
done
curl -sf "${url[sqlite]}/connection_profiles/${one[sqlite]}" -o "$tmp/one.json"
curl -sf "${url[sqlite]}/connection_profiles?prefix=bench-04&limit=100" -o "$tmp/list.json"
n=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["data"]))' "$tmp/list.json")
[ "$n" = 100 ] || { echo "list has $n items, not 100" >&2; exit 1; }

"$bin/bench_baseline" 127.0.0.1:0 "$tmp/one.json" "$tmp/list.json" >"$tmp/base.out" 2>&1 &
pid[bare]=$!; pids+=("$!")
url[bare]=$(wait_url "$tmp/base.out" "baseline listening on" "$!")/api/v1
one[bare]=${one[sqlite]}

route_url() { # server route
  case $2 in
    one) echo "${url[$1]}/connection_profiles/${one[$1]}" ;;
    list) echo "${url[$1]}/connection_profiles?prefix=bench-04&limit=100" ;;
  esac
}
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
measure() { # server route -> "rps p50 p99 cpu_us_per_request"
  local t0 t1 out
  t0=$(ticks "${pid[$1]}")
  out=$(wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" --latency "$(route_url "$1" "$2")")
  t1=$(ticks "${pid[$1]}")
  if grep -qE 'Non-2xx|Socket errors' <<<"$out"; then echo "$1 $2: $out" >&2; exit 1; fi
  awk -v dt=$((t1 - t0)) -v hz="$(getconf CLK_TCK)" '
    /^Requests\/sec/ {rps = $2} $1 == "50%" {p50 = $2} $1 == "99%" {p99 = $2}
    /requests in/ {n = $1}
    END {printf "%s %s %s %.1f\n", rps, p50, p99, dt / hz * 1e6 / n}' <<<"$out"
}

servers=(sqlite uncached memory bare)
for route in one list; do
  for s in "${servers[@]}"; do wrk -t"$THREADS" -c"$CONNS" -d2s "$(route_url "$s" "$route")" >/dev/null; done
  for r in $(seq 1 "$ROUNDS"); do
    # Each round starts with a different server, so none is always first.
    order=("${servers[@]:$((r % 4))}" "${servers[@]:0:$((r % 4))}")
    for s in "${order[@]}"; do
      echo "$route $r $s $(measure "$s" "$route")" >>"$tmp/results"
      echo "  $route round $r $s: $(tail -1 "$tmp/results" | cut -d' ' -f4-)" >&2
    done
  done
done

peak() { awk '/VmHWM/ {print $2 " " $3}' "/proc/${pid[$1]}/status"; }
echo
echo "wrk -t$THREADS -c$CONNS -d$DURATION × $ROUNDS alternating rounds, $PROFILES profiles per server, $(nproc) cores shared by wrk and the servers"
echo
python3 - "$tmp/results" <<'PY'
import statistics as st, sys
rows = [l.split() for l in open(sys.argv[1])]
names = {"sqlite": "patchbay, SQLite (as shipped)", "uncached": "patchbay, SQLite, cache off",
         "memory": "patchbay, memory store", "bare": "bare axum, same bytes"}
routes = {"one": "GET /connection_profiles/{id}", "list": "GET /connection_profiles (100 items)"}
def ms(v):  # wrk prints 1.02ms / 681.00us / 1.20s
    for unit, f in (("us", 1e-3), ("ms", 1.0), ("s", 1e3)):
        if v.endswith(unit):
            return float(v[: -len(unit)]) * f
print("| route | server | requests/s | p50 | p99 | CPU per request | vs bare axum |")
print("|---|---|---|---|---|---|---|")
for route, title in routes.items():
    got = {s: [r for r in rows if r[0] == route and r[2] == s] for s in names}
    bare = {r[1]: float(r[3]) for r in got["bare"]}
    for s, name in names.items():
        rs = got[s]
        rps = st.median(float(r[3]) for r in rs)
        p50 = st.median(ms(r[4]) for r in rs)
        p99 = st.median(ms(r[5]) for r in rs)
        cpu = st.median(float(r[6]) for r in rs)
        ratio = st.median(float(r[3]) / bare[r[1]] for r in rs)
        print(f"| {title} | {name} | {rps:,.0f} | {p50:.2f} ms | {p99:.2f} ms | {cpu:.1f} µs | {ratio:.2f}× |")
PY
echo
echo "peak memory (VmHWM) with $PROFILES profiles: SQLite $(peak sqlite), SQLite cache off $(peak uncached), memory store $(peak memory)"
echo "bytes: one profile $(wc -c <"$tmp/one.json"), list $(wc -c <"$tmp/list.json")"
