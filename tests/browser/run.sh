#!/usr/bin/env bash
# The console's browser tests: builds the server, starts it on a free port with a token and a
# Mosquitto broker on another, runs the Playwright tests in Debian's Chromium (never a browser
# Playwright downloads), then stops both. Needs node and npm, `chromium` and `mosquitto`
# (apt-get install -y chromium mosquitto). CHROMIUM names another Chromium binary, VELOFLUX_BIN
# a server binary already built (then nothing is built). Arguments go to `playwright test`.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/veloflux-target}"
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
export CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"

for tool in node npm curl mosquitto "$CHROMIUM"; do
    if ! command -v "$tool" >/dev/null; then
        echo "run.sh needs $tool" >&2
        exit 1
    fi
done

free_port() {
    node -e 'const s = require("net").createServer().listen(0, "127.0.0.1",
        () => { console.log(s.address().port); s.close(); });'
}

if [ -z "${VELOFLUX_BIN:-}" ]; then
    (cd "$root" && cargo build -q -p veloflux --bin veloFlux)
    VELOFLUX_BIN="$CARGO_TARGET_DIR/debug/veloFlux"
fi
(cd "$here" && npm ci --no-audit --no-fund --loglevel=error)

work=$(mktemp -d)
server=""
broker=""
stop() {
    for pid in $server $broker; do
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    rm -rf "$work"
}
trap stop EXIT

broker_port=$(free_port)
printf 'listener %s 127.0.0.1\nallow_anonymous true\n' "$broker_port" >"$work/mosquitto.conf"
mosquitto -c "$work/mosquitto.conf" >"$work/mosquitto.log" 2>&1 &
broker=$!

port=$(free_port)
token=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
VELOFLUX_SERVER__AUTH_TOKEN=$token "$VELOFLUX_BIN" \
    --data-dir "$work/data" --manager-addr "127.0.0.1:$port" >"$work/server.log" 2>&1 &
server=$!
for _ in $(seq 100); do
    curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break
    sleep 0.1
done
for _ in $(seq 50); do (exec 3<>"/dev/tcp/127.0.0.1/$broker_port") 2>/dev/null && break; sleep 0.1; done

status=0
(cd "$here" && VELOFLUX_URL="http://127.0.0.1:$port" VELOFLUX_TOKEN="$token" \
    VELOFLUX_BROKER="tcp://127.0.0.1:$broker_port" npx playwright test "$@") || status=$?
if [ "$status" -ne 0 ]; then
    echo "the server's log:"
    tail -n 40 "$work/server.log"
fi
exit "$status"
