#!/usr/bin/env bash
# Three veloFlux instances on one machine sharing one MQTT subscription: each takes a third
# of the messages published to sensors/readings and publishes its results to
# sensors/fahrenheit. Ctrl-C (or SIGTERM) stops all three.
#
#   deploy/multi-instance/run.sh [broker_url]     (default tcp://127.0.0.1:1883)
#
# VELOFLUX_BIN names the binary (default: veloFlux on the PATH); DATA_DIR where the three data
# directories and logs go (default: ./tmp/multi-instance). The broker must support shared
# subscriptions ($share/<group>/<topic>): Mosquitto 2, EMQX and HiveMQ do.
# tests/scale_out.rs starts the instances from these files and checks that nothing is lost.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
binary="${VELOFLUX_BIN:-veloFlux}"
broker="${1:-tcp://127.0.0.1:1883}"
data="${DATA_DIR:-./tmp/multi-instance}"
instances=(1 2 3)
mkdir -p "$data"

pids=()
stop() {
    if [ "${#pids[@]}" -gt 0 ]; then kill "${pids[@]}" 2>/dev/null || true; fi
    wait
}
trap stop EXIT
trap 'exit 130' INT TERM

for n in "${instances[@]}"; do
    "$binary" --data-dir "$data/gw-$n" --config "$here/gw-$n.yaml" 2>>"$data/gw-$n.log" &
    pids+=("$!")
done

# The REST address of instance $1, as its configuration file says.
address() {
    sed -n 's/^ *manager_addr: *//p' "$here/gw-$1.yaml"
}

# Polls $1 until it answers 200, for up to 10 seconds, while the process $2 runs.
wait_for() {
    for _ in $(seq 100); do
        kill -0 "$2" 2>/dev/null || break
        curl -sf -o /dev/null "$1" && return 0
        sleep 0.1
    done
    echo "no answer from $1 (see the logs in $data)" >&2
    return 1
}

for n in "${instances[@]}"; do
    base="http://$(address "$n")"
    wait_for "$base/healthz" "${pids[$((n - 1))]}"
    # The same stream and pipeline on every instance. A restarted instance restores them from
    # its data directory, so a 409 (they exist) is fine.
    status=$(sed "s|tcp://127.0.0.1:1883|$broker|g" "$here/specs.json" |
        curl -s -o /dev/null -w '%{http_code}' -XPOST "$base/import" \
            -H "Content-Type: application/json" -d @-)
    case "$status" in
        200 | 409) ;;
        *) echo "instance gw-$n refused specs.json ($status)" >&2 && exit 1 ;;
    esac
done
for n in "${instances[@]}"; do
    wait_for "http://$(address "$n")/readyz" "${pids[$((n - 1))]}"
    echo "gw-$n ready on http://$(address "$n") (log: $data/gw-$n.log)"
done
echo "publish to sensors/readings ({\"seq\": 1, \"device\": \"d1\", \"temp\": 21.5}) and read"
echo "sensors/fahrenheit; Ctrl-C stops the three instances"
wait
