#!/usr/bin/env bash
# Install what sigap needs on Debian 12 (as root), idempotently: apt packages, PostgreSQL
# running, and the project venv (.venv) with sigap installed in editable mode + dev tools.
# Quick when everything is already there (no apt-get update, pip only when pyproject changed).
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(python3 python3-venv python3-dev gcc iproute2 nftables fping time procps
              snmpd snmp openssh-server lldpd
              prometheus-snmp-exporter prometheus
              dovecot-imapd
              postgresql postgresql-client
              chromium)  # web board end-to-end test (Playwright drives /usr/bin/chromium)

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})); then
  [ "$(id -u)" = 0 ] || { echo "bootstrap: need root to install: ${missing[*]}" >&2; exit 1; }
  echo "bootstrap: apt-get install ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # Debian starts packaged services on install; nothing of ours needs them except PostgreSQL
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Debian starts snmpd, lldpd, snmp_exporter, prometheus and dovecot on install; the lab, the
# benchmark and the intake tests run private ones (namespaces, temp dirs). Disable the system
# services only (never kill by name: lab agents are snmpd and lldpd processes too).
for service in snmpd lldpd prometheus-snmp-exporter prometheus prometheus-node-exporter dovecot; do
  if command -v systemctl >/dev/null && systemctl is-enabled "$service" >/dev/null 2>&1; then
    systemctl disable --now "$service" >/dev/null 2>&1 || true
  fi
  [ -e "/etc/init.d/$service" ] && { update-rc.d "$service" disable >/dev/null 2>&1 || true; }
done

# PostgreSQL: the ticket-store tests run on it (127.0.0.1:5432, database `test`)
if command -v pg_lsclusters >/dev/null; then
  version=$(ls /etc/postgresql | sort -V | tail -1)
  if ! pg_lsclusters -h 2>/dev/null | awk '{print $4}' | grep -q online; then
    pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
  fi
  if ! psql -h 127.0.0.1 -U postgres -d test -Atc 'select 1' >/dev/null 2>&1; then
    # a fresh Debian cluster: local trust for the tests (this is a test machine), database `test`
    hba=/etc/postgresql/$version/main/pg_hba.conf
    if ! grep -q '^host all all 127.0.0.1/32 trust' "$hba"; then
      sed -i '1i host all all 127.0.0.1/32 trust\nlocal all all trust' "$hba"
      pg_ctlcluster --skip-systemctl-redirect "$version" main reload || true
    fi
    psql -h 127.0.0.1 -U postgres -Atc "select 1 from pg_database where datname='test'" | grep -q 1 ||
      psql -h 127.0.0.1 -U postgres -c 'create database test' >/dev/null
  fi
fi

PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  echo "bootstrap: creating .venv with $($PY --version)"
  "$PY" -m venv .venv
fi
stamp=.venv/.sigap-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  echo "bootstrap: pip install -e .[dev]"
  .venv/bin/pip install -q --upgrade pip
  .venv/bin/pip install -q -e '.[dev]'
  touch "$stamp"
fi
