#!/usr/bin/env bash
# Set up, build the demo store (once) and open JupyterLab on the analyst notebooks.
# The last line printed is JupyterLab's URL with its token; JupyterLab's own log goes to .alpr/demo-lab.log.
# ALPR_LAB_PORT chooses the port (default: 8888, or the next free one). Ctrl-C stops JupyterLab.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh test
store="${ALPR_STORE:-$PWD/demo-store}"
if [ ! -f "$store/store.toml" ]; then
  .venv/bin/alpr demo --store "$store" --credentials-json "$PWD/demo-credentials.json"
else
  echo "using the existing demo store $store (credentials in demo-credentials.json)"
fi
port="${ALPR_LAB_PORT:-$(.venv/bin/python -c '
import socket
for port in [*range(8888, 8899), 0]:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as JupyterLab binds it
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            continue
        print(sock.getsockname()[1])
        break
')}"
token="$(.venv/bin/python -c 'import secrets; print(secrets.token_hex(24))')"
mkdir -p -m 700 .alpr
log="$PWD/.alpr/demo-lab.log"
(umask 077 && : >"$log")  # paths and requests of this machine: for its user only
url="http://127.0.0.1:$port/lab?token=$token"
.venv/bin/alpr lab --store "$store" --ServerApp.ip=127.0.0.1 --port="$port" --ServerApp.port_retries=0 \
  --IdentityProvider.token="$token" "$@" >"$log" 2>&1 &
lab=$!
trap 'kill -TERM "$lab" 2>/dev/null || true' INT TERM HUP  # alpr lab passes it on to JupyterLab
if ! .venv/bin/python - "$port" "$token" "$lab" <<'EOF'
import os, sys, time, urllib.request

port, token, pid = sys.argv[1], sys.argv[2], int(sys.argv[3])
for _ in range(240):
    try:
        urllib.request.urlopen(f"http://127.0.0.1:{port}/api/status?token={token}", timeout=1)
        sys.exit(0)
    except OSError:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            sys.exit(1)
        time.sleep(0.5)
sys.exit(1)
EOF
then
  echo "JupyterLab did not start; the end of $log:" >&2
  tail -n 20 "$log" >&2
  kill -TERM "$lab" 2>/dev/null || true
  exit 1
fi
echo "JupyterLab is serving the notebooks (log: $log; Ctrl-C stops it). Open:"
echo "$url"
status=0
while kill -0 "$lab" 2>/dev/null; do
  wait "$lab" && status=0 || status=$?
done
exit "$status"
