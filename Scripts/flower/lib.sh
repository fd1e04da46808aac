# Shared by Scripts/flower-demo and Scripts/flower/conformance (source it): a loopback Flower
# federation of dpfl nodes around a pinned SuperLink (Scripts/flower/requirements.txt).
#   flower_start WORK PORT     a SuperLink on 127.0.0.1:PORT, FLWR_HOME in WORK
#   flower_node LOG ARGS…      a `dpfl node` process (in the background), its pid in NODE_PID
#   flower_run APP LOG         `flwr run APP` against the SuperLink, streaming to LOG
#   flower_stop                stops what flower_start and flower_node started
# Needs DPFL (the dpfl executable) set by the caller.

flower_here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
flower_pids=()

flower_start() {
  local work="$1" port="$2" python
  python="$("$flower_here/setup-venv")"
  export PATH="$(dirname "$python"):$PATH"
  export FLWR_HOME="$work/flwr-home" FLWR_TELEMETRY_ENABLED=0 FLWR_DISABLE_UPDATE_CHECK=1
  mkdir -p "$FLWR_HOME"
  printf '[superlink]\ndefault = "local"\n\n[superlink.local]\naddress = "127.0.0.1:%s"\ninsecure = true\n' \
    "$port" >"$FLWR_HOME/config.toml"
  flower-superlink --insecure --disable-runtime-dependency-installation \
    --host 127.0.0.1 --port "$port" --database "$work/superlink.db" >"$work/superlink.log" 2>&1 &
  flower_pids+=($!)
  FLOWER_SUPERLINK="127.0.0.1:$port"
  for _ in $(seq 1 120); do
    "$python" -c "import urllib.request as u; u.urlopen('http://$FLOWER_SUPERLINK/health', timeout=2)" \
      >/dev/null 2>&1 && return 0
    sleep 0.5
  done
  echo "flower: the SuperLink did not start (log: $work/superlink.log)" >&2
  tail -5 "$work/superlink.log" >&2
  return 1
}

flower_node() {
  local log="$1"
  shift
  "$DPFL" node --superlink "$FLOWER_SUPERLINK" --insecure "$@" >"$log" 2>&1 &
  NODE_PID=$!
  flower_pids+=($NODE_PID)
}

flower_run() {
  flwr run "$1" local --stream >"$2" 2>&1
}

flower_stop() {
  local pid
  for pid in "${flower_pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${flower_pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  flower_pids=()
}
