#!/usr/bin/env bash
# Install or upgrade sigap on a Debian 12 NOC server, idempotently (README "Operations"):
#   system user `sigap`, a venv under /opt/sigap with sigap installed from this source tree,
#   /etc/sigap (inventory.yaml is yours; sigap.env for secrets, mode 0600), the systemd unit,
#   database migrations, the unit enabled (and restarted when it was running: an upgrade).
# Run it again after `git pull` to upgrade; nothing you edited in /etc/sigap is overwritten.
#
# Options (defaults in brackets):
#   --prefix DIR     venv, README and example configs [/opt/sigap]
#   --confdir DIR    inventory.yaml and sigap.env [/etc/sigap]
#   --statedir DIR   SQLite database (systemd's StateDirectory) [/var/lib/sigap]
#   --unitdir DIR    where sigap.service goes [/etc/systemd/system]
#   --pip-args ARGS  extra pip arguments, e.g. "--no-index --find-links /srv/wheels" offline
#   --no-system      no user, no chown, no systemctl: a staging install into directories you
#                    own (the tests use it under a temporary directory)
#   --zona NAME      a zone poller (README "Poller kecamatan (zona)"): enable and start
#                    sigap-poller@NAME instead of sigap (repeatable); the centre migrates the db
# sigap-poller@.service is installed beside sigap.service either way (not enabled).
set -euo pipefail

SOURCE=$(cd "$(dirname "$0")/.." && pwd)
PREFIX=/opt/sigap
CONFDIR=/etc/sigap
STATEDIR=/var/lib/sigap
UNITDIR=/etc/systemd/system
PIP_ARGS=""
SYSTEM=1
USER_NAME=sigap
PYTHON=${PYTHON:-python3}
ZONES=()

while (($#)); do
  case "$1" in
    --prefix) PREFIX=$2; shift 2 ;;
    --confdir) CONFDIR=$2; shift 2 ;;
    --statedir) STATEDIR=$2; shift 2 ;;
    --unitdir) UNITDIR=$2; shift 2 ;;
    --pip-args) PIP_ARGS=$2; shift 2 ;;
    --no-system) SYSTEM=0; shift ;;
    --zona)
      [[ ${2-} =~ ^[a-z0-9][a-z0-9-]{0,39}$ ]] || {
        echo "install: --zona needs a zone name (a-z, 0-9, '-', max 40)" >&2; exit 2; }
      [ "$2" != pusat ] || { echo "install: pusat is polled by sigap.service itself" >&2; exit 2; }
      ZONES+=("$2"); shift 2 ;;
    -h|--help) sed -n '2,19p' "$0"; exit 0 ;;
    *) echo "install: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done

say() { echo "install: $*"; }
if ((SYSTEM)) && [ "$(id -u)" != 0 ]; then
  echo "install: run as root (or use --no-system for a staging install)" >&2
  exit 1
fi
VENV=$PREFIX/.venv
UNIT=$UNITDIR/sigap.service
SERVICES=(sigap)
for zone in "${ZONES[@]}"; do SERVICES+=("sigap-poller@$zone"); done
((${#ZONES[@]})) && SERVICES=("${SERVICES[@]:1}")  # a poller machine runs no central daemon

# 1. the service user (no login, no home of its own but the state directory)
if ((SYSTEM)); then
  if ! getent passwd "$USER_NAME" >/dev/null; then
    useradd --system --user-group --home-dir "$STATEDIR" --no-create-home \
      --shell /usr/sbin/nologin --comment "sigap monitoring agent" "$USER_NAME"
    say "created system user $USER_NAME"
  fi
fi

# 2. the venv, and sigap from this source tree (not editable: /opt never points into a checkout)
mkdir -p "$PREFIX" "$STATEDIR"
if [ ! -x "$VENV/bin/python" ]; then
  "$PYTHON" -m venv "$VENV"
  say "created $VENV"
fi
version() {  # from / so that a sigap.egg-info in the current directory is not found
  (cd / && "$VENV/bin/python" -c 'import importlib.metadata as m; print(m.version("sigap"))' \
    2>/dev/null) || echo none
}
before=$(version)
# build from a copy: pip and setuptools write build/ and *.egg-info next to the sources
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
tar -C "$SOURCE" --exclude=./.venv --exclude=./.git --exclude=./build --exclude='*.egg-info' \
  -cf - . | tar -C "$stage" -xf -
# shellcheck disable=SC2086 # PIP_ARGS is a list of words on purpose
"$VENV/bin/pip" install --quiet --disable-pip-version-check $PIP_ARGS "$stage"
after=$(version)
say "sigap $before -> $after in $VENV"
install -m 0644 "$SOURCE/README.md" "$PREFIX/README.md"
mkdir -p "$PREFIX/share"
cp -r "$SOURCE/deploy/prometheus" "$SOURCE/deploy/grafana" "$PREFIX/share/"

# 3. configuration: never overwrite what the operator wrote; keep secrets 0600
install -d -m 0750 "$CONFDIR"
if [ ! -e "$CONFDIR/sigap.env" ]; then
  install -m 0600 "$SOURCE/deploy/sigap.env.example" "$CONFDIR/sigap.env"
  sed -i "s#/var/lib/sigap#$STATEDIR#g" "$CONFDIR/sigap.env"
  say "wrote $CONFDIR/sigap.env (edit it: database URL, secrets)"
fi
chmod 0600 "$CONFDIR/sigap.env"
if ((SYSTEM)); then
  chown root:root "$CONFDIR/sigap.env"
  chown root:"$USER_NAME" "$CONFDIR"
  chown "$USER_NAME:$USER_NAME" "$STATEDIR"
  chmod 0750 "$STATEDIR"
fi

# 4. the units, with this install's paths
unit_changed=0
for name in sigap.service sigap-poller@.service; do
  rendered=$(sed -e "s#/opt/sigap#$PREFIX#g" -e "s#/etc/sigap#$CONFDIR#g" "$SOURCE/deploy/$name")
  unit=$UNITDIR/$name
  if [ ! -e "$unit" ] || [ "$rendered" != "$(cat "$unit")" ]; then
    mkdir -p "$UNITDIR"
    printf '%s\n' "$rendered" >"$unit.tmp"
    chmod 0644 "$unit.tmp"
    mv "$unit.tmp" "$unit"
    unit_changed=1
    say "installed $unit"
  fi
done

systemd_running() { ((SYSTEM)) && [ -d /run/systemd/system ] && command -v systemctl >/dev/null; }
was_active=0
for service in "${SERVICES[@]}"; do
  if systemd_running && systemctl is-active --quiet "$service"; then
    was_active=1
    say "stopping $service for the upgrade"
    systemctl stop "$service"
  fi
done

# 5. database migrations (the daemon also migrates at start; doing it here shows errors now)
if ((${#ZONES[@]})); then
  say "zone poller: the centre migrates the database (install.sh there, or its sigap run)"
elif [ -e "$CONFDIR/inventory.yaml" ]; then
  migrate=("$VENV/bin/python" -c '
import os, sys
from pathlib import Path
from agent.config.load import load_inventory
from ticketing.migrate import migrate
from ticketing.store import TicketStore
inventory = load_inventory(Path(sys.argv[1]))
url = os.environ.get("SIGAP_DB_URL") or inventory.database
url = url or TicketStore.sqlite_url(Path(sys.argv[2]) / "sigap.db")
with TicketStore(url) as store:
    migrate(store)
' "$CONFDIR/inventory.yaml" "$STATEDIR")
  (
    set -a
    # shellcheck disable=SC1091
    . "$CONFDIR/sigap.env"
    set +a
    if ((SYSTEM)); then
      runuser -u "$USER_NAME" -- "${migrate[@]}"
    else
      "${migrate[@]}"
    fi
  )
  say "database schema at the newest revision"
else
  say "no $CONFDIR/inventory.yaml yet: write it (sigap check validates it), then run this again"
fi

# 6. enable; start again if it was running (or start it when the inventory is there)
if systemd_running; then
  ((unit_changed)) && systemctl daemon-reload
  for service in "${SERVICES[@]}"; do
    systemctl enable --quiet "$service"
    if ((was_active)) || [ -e "$CONFDIR/inventory.yaml" ]; then
      systemctl start "$service"
      say "$service started (journalctl -u $service -f)"
    fi
  done
elif ((SYSTEM)); then
  say "systemd is not running here: enable the unit later with systemctl enable --now ${SERVICES[*]}"
fi
say "done"
