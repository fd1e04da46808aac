# Shared by Scripts/flower-demo and Scripts/flower/conformance (source it): a loopback Flower
# federation of dpfl nodes around a pinned SuperLink (Scripts/flower/requirements.txt).
#   flower_start WORK PORT [TLS]  a SuperLink on 127.0.0.1:PORT, FLWR_HOME in WORK; over HTTPS
#                              with TLS/server.pem and TLS/server.key when the folder TLS is
#                              given (Scripts/flower/make-certificates writes them), else plain
#   flower_node LOG ARGS…      a `dpfl node` process (in the background), its pid in NODE_PID;
#                              it trusts TLS/ca.pem when the SuperLink runs over HTTPS
#   flower_run APP LOG         `flwr run APP` against the SuperLink, streaming to LOG
#   flower_stop                stops what flower_start and flower_node started
# Needs DPFL (the dpfl executable) set by the caller.

flower_here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
flower_pids=()

flower_start() {
  local work="$1" port="$2" python transport
  FLOWER_TLS="${3:-}"
  python="$("$flower_here/setup-venv")"
  export PATH="$(dirname "$python"):$PATH"
  export FLWR_HOME="$work/flwr-home" FLWR_TELEMETRY_ENABLED=0 FLWR_DISABLE_UPDATE_CHECK=1
  mkdir -p "$FLWR_HOME"
  local trust='insecure = true'
  [[ -n "$FLOWER_TLS" ]] && trust="root-certificates = \"$FLOWER_TLS/ca.pem\""
  printf '[superlink]\ndefault = "local"\n\n[superlink.local]\naddress = "127.0.0.1:%s"\n%s\n' \
    "$port" "$trust" >"$FLWR_HOME/config.toml"
  if [[ -n "$FLOWER_TLS" ]]; then
    transport=(--ssl-ca-certfile "$FLOWER_TLS/ca.pem" --ssl-certfile "$FLOWER_TLS/server.pem"
      --ssl-keyfile "$FLOWER_TLS/server.key")
  else
    transport=(--insecure)
  fi
  flower-superlink "${transport[@]}" --disable-runtime-dependency-installation \
    --host 127.0.0.1 --port "$port" --database "$work/superlink.db" >"$work/superlink.log" 2>&1 &
  flower_pids+=($!)
  FLOWER_SUPERLINK="127.0.0.1:$port"
  for _ in $(seq 1 120); do
    "$python" - "$FLOWER_SUPERLINK" "$FLOWER_TLS" >/dev/null 2>&1 <<'PY' && return 0
import ssl, sys, urllib.request
address, tls = sys.argv[1:]
context = ssl.create_default_context(cafile=f"{tls}/ca.pem") if tls else None
urllib.request.urlopen(f"{'https' if tls else 'http'}://{address}/health", timeout=2, context=context)
PY
    sleep 0.5
  done
  echo "flower: the SuperLink did not start (log: $work/superlink.log)" >&2
  tail -5 "$work/superlink.log" >&2
  return 1
}

flower_node() {
  local log="$1"
  shift
  local transport=(--insecure)
  [[ -n "${FLOWER_TLS:-}" ]] && transport=(--root-certificates "$FLOWER_TLS/ca.pem")
  "$DPFL" node --superlink "$FLOWER_SUPERLINK" "${transport[@]}" "$@" >"$log" 2>&1 &
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
