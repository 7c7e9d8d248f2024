#!/usr/bin/env bash
# The queue-manager REST API under wrk: builds Release, starts `streamforge serve` on a free port with a fresh
# data dir, creates a workflow (synthetic loader: no exchange needed), then runs wrk against
# GET /queues/{id} for 10 s with latency statistics and prints requests/s and p99. Stops the server and
# removes the data dir whatever happens. Target on a 2-core machine: >= 20,000 req/s, p99 < 5 ms.
#   bench/api_bench.sh                     # build Release with scripts/build, then measure
#   STREAMFORGE_BIN=path bench/api_bench.sh  # measure a given binary
#   WRK_THREADS=2 WRK_CONNECTIONS=16 WRK_DURATION=10s HTTP_THREADS=2 override the load shape
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
command -v wrk >/dev/null || { echo "api_bench: wrk is not installed (scripts/bootstrap installs it)" >&2; exit 1; }
bin=${STREAMFORGE_BIN:-}
if [[ -z "$bin" ]]; then
  bin="$("$root/scripts/build" release streamforge)/src/cli/streamforge"
fi
threads=${WRK_THREADS:-2}
connections=${WRK_CONNECTIONS:-16}
duration=${WRK_DURATION:-10s}
http_threads=${HTTP_THREADS:-2}

work=$(mktemp -d "${TMPDIR:-/tmp}/sf-api-bench.XXXXXX")
server_pid=""
cleanup() {
  if [[ -n "$server_pid" ]] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

"$bin" --log-level warn serve --listen 127.0.0.1:0 --data-dir "$work/data" --synthetic-loader \
  --http-threads "$http_threads" >"$work/serve.out" 2>"$work/serve.err" &
server_pid=$!
for _ in $(seq 300); do
  [[ -s "$work/serve.out" ]] && break
  kill -0 "$server_pid" 2>/dev/null || { cat "$work/serve.err" >&2; exit 1; }
  sleep 0.1
done
address=$(head -n1 "$work/serve.out" | sed -n 's/^listening on //p')
[[ -n "$address" ]] || { echo "api_bench: serve printed no address" >&2; cat "$work/serve.err" >&2; exit 1; }
server="http://$address"

id=$("$bin" workflow start --server "$server" --symbol BTCUSDT --type api_candles_5m \
  --time-range 2024-08-01:2024-08-02 --quiet)
"$bin" workflow watch "$id" --server "$server" --timeout 60 >/dev/null 2>&1

url="$server/queues/$id"
echo "api_bench: wrk -t$threads -c$connections -d$duration --latency $url (serve --http-threads $http_threads)"
wrk -t"$threads" -c"$connections" -d"$duration" --latency "$url" | tee "$work/wrk.txt"
rps=$(awk '/^Requests\/sec:/ {print $2}' "$work/wrk.txt")
p99=$(awk '$1 == "99%" {print $2}' "$work/wrk.txt")
errors=$(awk '/Non-2xx or 3xx responses:/ {print $5}' "$work/wrk.txt")
echo "api_bench: GET /queues/{id}: ${rps} req/s, p99 ${p99}${errors:+, non-2xx: $errors}"
