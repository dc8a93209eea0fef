#!/usr/bin/env bash
# Bring up ALPR Workbench's JupyterHub on one machine (Debian 12, run as root). Safe to run again.
#
#   deploy/jupyterhub/up.sh            prepare, then start the Hub in the foreground
#   deploy/jupyterhub/up.sh prepare    packages, OS accounts, directories and modes, records database, store
#   deploy/jupyterhub/up.sh start      start the Hub (it starts the proxy and the API service itself)
#
# Everything is named by the variables below (defaults in brackets); `prepare` writes them to $ALPR_ENV_FILE so
# that `start` (or a systemd unit: EnvironmentFile=) finds the same values. See README.md beside this script.
set -euo pipefail
umask 077

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"

: "${ALPR_ENV_FILE:=/etc/alpr/hub.env}"
# shellcheck disable=SC1090
if [ "${1:-all}" = start ] && [ -f "$ALPR_ENV_FILE" ]; then set -a; . "$ALPR_ENV_FILE"; set +a; fi

: "${ALPR_SRV:=/srv/alpr}"                       # root 0755: the service's home, store, key, checkpoints
: "${ALPR_HUB_STATE:=/srv/jupyterhub}"           # root 0700: the Hub's cookie secret, database, TOTP secrets
: "${ALPR_SERVICE_USER:=alpr-svc}"               # the one OS account that can read the store
: "${ALPR_SERVICE_PORT:=8470}"
: "${ALPR_HUB_PORT:=8000}"                       # loopback; TLS is terminated in front (docs/deployment.md)
: "${ALPR_HUB_BIN:=$REPO/.venv/bin}"             # a virtualenv with alpr-workbench[hub] (scripts/setup.sh hub)
: "${ALPR_ANALYSTS:=}"                           # OS accounts to create, comma-separated (= ALPR usernames)
: "${ALPR_ANALYST_HOME_BASE:=/home}"
: "${ALPR_RECORDS_URL:=}"                        # empty: a database on this machine's PostgreSQL is created
: "${ALPR_RECORDS_PASSWORD:=}"                   # with ALPR_RECORDS_URL: the password kept in the service's .pgpass
: "${ALPR_DEMO_READS:=}"                         # set (e.g. 300000): a synthetic demo store instead of `alpr init`
: "${ALPR_INIT_SETTINGS:=}"                      # first department settings, "NAME=VALUE NAME=VALUE"
: "${ALPR_ADMIN:=admin}"                         # `alpr init`: the first administrator (password: ALPR_PASSWORD_FILE)
: "${ALPR_ADMIN_NAME:=ALPR Administrator}"
: "${ALPR_ADMIN_TITLE:=ALPR Administrator}"
: "${ALPR_SKIP_PACKAGES:=}"                      # set: do not apt-get / npm / pip (already installed)

STORE="$ALPR_SRV/store"
SVC_HOME="$ALPR_SRV/home"
KEYS="$ALPR_SRV/keys"
CHECKPOINTS="$ALPR_SRV/checkpoints"
WORKBENCH="$ALPR_SRV/workbench"

say() { printf 'up.sh: %s\n' "$*" >&2; }
as_svc() { (cd / && runuser -u "$ALPR_SERVICE_USER" -- env -i HOME="$SVC_HOME" PATH="$ALPR_HUB_BIN:/usr/bin:/bin" \
           LANG=C.UTF-8 "$@"); }
# a file only the service account can read (written by root: the account's own directories are its)
svc_file() { install -m 0600 -o "$ALPR_SERVICE_USER" -g "$ALPR_SERVICE_USER" /dev/stdin "$1"; }

packages() {
  [ -n "$ALPR_SKIP_PACKAGES" ] && return
  export DEBIAN_FRONTEND=noninteractive
  local need=()
  ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
  command -v npm >/dev/null 2>&1 || need+=(npm)
  command -v python3.11 >/dev/null 2>&1 || need+=(python3.11 python3.11-venv)
  if [ "${#need[@]}" -gt 0 ]; then apt-get update -qq && apt-get install -y -qq --no-install-recommends "${need[@]}"; fi
  # npm's package: Debian's node-configurable-http-proxy only runs under Debian's own node
  configurable-http-proxy --version >/dev/null 2>&1 || npm install -g --silent configurable-http-proxy@5
  { [ -x "$ALPR_HUB_BIN/jupyterhub" ] && "$ALPR_HUB_BIN/python" -c "import jupyterhub_idle_culler" 2>/dev/null; } ||
    (cd "$REPO" && bash scripts/setup.sh hub)
}

accounts() {
  if ! id -u "$ALPR_SERVICE_USER" >/dev/null 2>&1; then
    useradd --system --user-group --home-dir "$SVC_HOME" --no-create-home --shell /usr/sbin/nologin \
            --comment "ALPR API service" "$ALPR_SERVICE_USER"
    say "created the service account $ALPR_SERVICE_USER"
  fi
  local name
  IFS=',' read -r -a names <<<"$ALPR_ANALYSTS"
  for name in "${names[@]}"; do
    [ -z "$name" ] && continue
    if ! id -u "$name" >/dev/null 2>&1; then
      install -d -m 0755 "$ALPR_ANALYST_HOME_BASE"
      useradd --create-home --home-dir "$ALPR_ANALYST_HOME_BASE/$name" --user-group --shell /bin/bash \
              --comment "ALPR analyst" "$name"
      chmod 0700 "$ALPR_ANALYST_HOME_BASE/$name"
      say "created the analyst account $name"
    fi
  done
}

directories() {
  install -d -m 0755 -o root -g root "$ALPR_SRV"
  # the service account alone: its home (audit system file, .pgpass), the store, the audit key, the checkpoints
  local dir
  for dir in "$SVC_HOME" "$STORE" "$KEYS" "$CHECKPOINTS"; do
    install -d -m 0700 -o "$ALPR_SERVICE_USER" -g "$ALPR_SERVICE_USER" "$dir"
    chown "$ALPR_SERVICE_USER:$ALPR_SERVICE_USER" "$dir"
    chmod 0700 "$dir"
  done
  install -d -m 0700 -o "$ALPR_SERVICE_USER" -g "$ALPR_SERVICE_USER" "$SVC_HOME/.config" "$SVC_HOME/.config/alpr"
  printf 'key_dir = "%s"\ncheckpoint_dir = "%s"\n' "$KEYS" "$CHECKPOINTS" | svc_file "$SVC_HOME/.config/alpr/audit.toml"
  # the Hub's own state: root only (cookie secret, Hub database, TOTP secrets)
  install -d -m 0700 -o root -g root "$ALPR_HUB_STATE" "$ALPR_HUB_STATE/totp"
  chmod 0700 "$ALPR_HUB_STATE" "$ALPR_HUB_STATE/totp"
  # what every analyst gets a copy of at first start (readable, holds no data)
  install -d -m 0755 -o root -g root "$WORKBENCH"
  cp -r "$REPO/notebooks" "$WORKBENCH/"
  [ -d "$REPO/dashboards" ] && cp -r "$REPO/dashboards" "$WORKBENCH/"
  chmod -R u=rwX,go=rX "$WORKBENCH"
}

records_database() {
  if [ -z "$ALPR_RECORDS_URL" ]; then
    # this machine's PostgreSQL (Debian: peer auth on the socket, passwords on TCP): a role and a database
    # for the service only; analysts have no role and no password
    if command -v pg_lsclusters >/dev/null 2>&1 && ! pg_lsclusters -h | grep -q online; then
      # shellcheck disable=SC2046
      pg_ctlcluster $(pg_lsclusters -h | head -1 | awk '{print $1, $2}') start
    fi
    local role=alpr_svc db=alpr_records
    ALPR_RECORDS_PASSWORD="$(head -c 24 /dev/urandom | base64 | tr -d '/+=')"
    if runuser -u postgres -- psql -tAc "SELECT 1 FROM pg_roles WHERE rolname='$role'" | grep -q 1; then
      if [ -f "$SVC_HOME/.pgpass" ]; then ALPR_RECORDS_PASSWORD="$(cut -d: -f5 "$SVC_HOME/.pgpass" | head -1)"
      else runuser -u postgres -- psql -qc "ALTER ROLE $role PASSWORD '$ALPR_RECORDS_PASSWORD'"; fi
    else
      runuser -u postgres -- psql -qc "CREATE ROLE $role LOGIN PASSWORD '$ALPR_RECORDS_PASSWORD'"
    fi
    runuser -u postgres -- psql -tAc "SELECT 1 FROM pg_database WHERE datname='$db'" | grep -q 1 \
      || runuser -u postgres -- createdb -O "$role" "$db"
    ALPR_RECORDS_URL="postgresql://$role@127.0.0.1:5432/$db"
  fi
  if [ -n "$ALPR_RECORDS_PASSWORD" ]; then  # host:port:db:user:password, read by libpq as the service only
    local rest="${ALPR_RECORDS_URL#postgresql://}" user host port db
    user="${rest%%@*}"; rest="${rest#*@}"; host="${rest%%:*}"; rest="${rest#*:}"; port="${rest%%/*}"; db="${rest#*/}"
    printf '%s:%s:%s:%s:%s\n' "$host" "$port" "${db%%\?*}" "$user" "$ALPR_RECORDS_PASSWORD" | svc_file "$SVC_HOME/.pgpass"
  fi
}

store() {
  if [ -f "$STORE/store.toml" ]; then say "store $STORE exists"; return; fi
  local settings=() item
  for item in $ALPR_INIT_SETTINGS; do settings+=(--setting "$item"); done
  if [ -n "$ALPR_DEMO_READS" ]; then
    as_svc "$ALPR_HUB_BIN/alpr" demo --store "$STORE" --reads "$ALPR_DEMO_READS" --records-url "$ALPR_RECORDS_URL" \
      --credentials-json "$SVC_HOME/demo-credentials.json" "${settings[@]}" >/dev/null
    say "demo store built; its users' passwords are in $SVC_HOME/demo-credentials.json (service account only)"
  else
    [ -n "${ALPR_PASSWORD_FILE:-}" ] || { say "set ALPR_PASSWORD_FILE to the first administrator's password file"; exit 2; }
    install -m 0600 -o "$ALPR_SERVICE_USER" "$ALPR_PASSWORD_FILE" "$SVC_HOME/.admin-password"
    as_svc env ALPR_PASSWORD_FILE="$SVC_HOME/.admin-password" "$ALPR_HUB_BIN/alpr" init --store "$STORE" \
      --admin "$ALPR_ADMIN" --full-name "$ALPR_ADMIN_NAME" --title "$ALPR_ADMIN_TITLE" \
      --records-url "$ALPR_RECORDS_URL" "${settings[@]}"
    rm -f "$SVC_HOME/.admin-password"
  fi
}

env_file() {
  install -d -m 0755 "$(dirname "$ALPR_ENV_FILE")"
  (umask 077; cat >"$ALPR_ENV_FILE" <<EOF
ALPR_SRV=$ALPR_SRV
ALPR_HUB_STATE=$ALPR_HUB_STATE
ALPR_HUB_TOTP=${ALPR_HUB_TOTP:-1}
ALPR_HUB_SESSION_HOURS=${ALPR_HUB_SESSION_HOURS:-8}
ALPR_HUB_IDLE_MINUTES=${ALPR_HUB_IDLE_MINUTES:-30}
ALPR_HUB_BIN=$ALPR_HUB_BIN
ALPR_HUB_PORT=$ALPR_HUB_PORT
ALPR_HUB_NOTEBOOKS=$WORKBENCH
ALPR_SERVICE_USER=$ALPR_SERVICE_USER
ALPR_SERVICE_STORE=$STORE
ALPR_SERVICE_PORT=$ALPR_SERVICE_PORT
EOF
  )
}

prepare() {
  packages
  accounts
  directories
  records_database
  store
  env_file
  say "ready: $0 start (Hub on http://127.0.0.1:$ALPR_HUB_PORT/, service as $ALPR_SERVICE_USER on :$ALPR_SERVICE_PORT)"
}

start() {
  export ALPR_HUB_STATE ALPR_HUB_BIN ALPR_HUB_PORT ALPR_SERVICE_USER ALPR_SERVICE_PORT
  export ALPR_SERVICE_STORE="$STORE" ALPR_HUB_NOTEBOOKS="${ALPR_HUB_NOTEBOOKS:-$WORKBENCH}"
  cd "$ALPR_HUB_STATE"
  exec "$ALPR_HUB_BIN/jupyterhub" -f "$HERE/jupyterhub_config.py"
}

case "${1:-all}" in
  prepare) prepare ;;
  start) start ;;
  all) prepare; start ;;
  *) echo "usage: $0 [prepare|start]" >&2; exit 2 ;;
esac
