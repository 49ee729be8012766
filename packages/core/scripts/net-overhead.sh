#!/bin/sh
# Core async against a hand-written Node `net` server, server CPU (utime+stime from /proc) per unit
# of work, interleaved rounds. Build first; needs wrk and /tmp/echo-ref (sh ../../../shared/tools/build.sh /tmp/echo-ref).
#   sh scripts/net-overhead.sh http [rounds]     HTTP hello under wrk -t1 -c50, 3 s per run
#   sh scripts/net-overhead.sh connect [rounds]  a new connection per round trip: ref-echo-load -x -c 20 -s 64, 3 s per run
# Loopback only; every run is bounded in time.
set -e
HERE=$(cd "$(dirname "$0")/.." && pwd)
CORE=$HERE/dist/cli/echo-server.js
NET=$HERE/../../apps/bench/baselines/node-net-echo.mjs
LOAD=${ECHO_REF:-/tmp/echo-ref}/ref-echo-load
WHAT=${1:-http}
ROUNDS=${2:-5}
tick() { awk '{print $14+$15}' "/proc/$1/stat"; }
pids=""
start() { node "$@" >/dev/null 2>&1 & pids="$pids $!"; }
trap 'kill $pids 2>/dev/null' EXIT
if [ "$WHAT" = http ]; then
  start "$CORE" --mode async --handler http-hello --port 23431 --max-connections 20000
  start "$CORE" --mode async --handler http-hello --port 23432 --max-connections 20000 --idle-timeout 0
  start "$NET" --mode http --port 23433
  set -- $pids
  servers="core:$1:23431 core-idle-timeout-0:$2:23432 node-net:$3:23433"
  sleep 1.5
  for s in $servers; do wrk -t1 -c50 -d1s "http://127.0.0.1:${s##*:}/" >/dev/null; done
else
  start "$CORE" --mode async --port 23441 --max-connections 20000
  start "$NET" --mode echo --port 23442
  set -- $pids
  servers="core:$1:23441 node-net:$2:23442"
  sleep 1.5
fi
for r in $(seq "$ROUNDS"); do
  line="round $r:"
  for s in $servers; do
    name=${s%%:*}; rest=${s#*:}; pid=${rest%%:*}; port=${rest#*:}
    b=$(tick "$pid")
    if [ "$WHAT" = http ]; then n=$(wrk -t1 -c50 -d3s "http://127.0.0.1:$port/" | awk '/requests in/{print $1}'); unit=request
    else n=$("$LOAD" -p "$port" -c 20 -s 64 -d 3 -x | tr ' ' '\n' | awk -F= '/^done=/{print $2}'); unit=connection; fi
    a=$(tick "$pid")
    line="$line $name $(echo "($a-$b)*10000/$n" | bc -l | cut -c1-5) µs/$unit ($n)"
  done
  echo "$line"
done
