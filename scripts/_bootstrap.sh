# Sourced by the scripts in this folder: puts the project's toolchain in place on a fresh machine.
# uv comes from PyPI; everything else (Python packages) from the lock file.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if ! python3 -m uv --version >/dev/null 2>&1; then
  echo "installing uv from PyPI..." >&2
  python3 -m pip install --quiet --disable-pip-version-check "uv>=0.5" >&2
fi
uv() { python3 -m uv "$@"; }
uv sync --frozen --quiet

port_open() { python3 - "$1" <<'PY'
import socket, sys
with socket.socket() as s:
    s.settimeout(1)
    sys.exit(s.connect_ex(("127.0.0.1", int(sys.argv[1]))))
PY
}

# Start PostgreSQL and RabbitMQ if they are installed here but not running (the integration
# tests need both; the embedded mode needs neither).
ensure_infrastructure() {
  if ! port_open 5432 && command -v pg_ctlcluster >/dev/null; then
    echo "starting PostgreSQL..." >&2
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start
  fi
  if ! port_open 5672 && command -v rabbitmq-server >/dev/null; then
    echo "starting RabbitMQ..." >&2
    rabbitmq-server -detached
  fi
  for _ in $(seq 1 60); do
    if port_open 5432 && port_open 5672; then return 0; fi
    sleep 1
  done
  echo "PostgreSQL (127.0.0.1:5432) and RabbitMQ (127.0.0.1:5672) are needed by the tests" >&2
  return 1
}

# The portal's web frontend (web/): node packages from package-lock.json, and a Vite build into
# web/dist whenever its sources differ from the last build's (a hash of them is kept there).
build_web() {
  if ! command -v npm >/dev/null; then
    echo "npm is missing: the portal's frontend (web/) is not built" >&2
    return 0
  fi
  local hash
  # public/ is optional (Vite copies it as is when present).
  hash=$(cd web && find src $(ls -d public 2>/dev/null) index.html package.json package-lock.json \
    tsconfig.json vite.config.ts -type f | LC_ALL=C sort | xargs sha256sum | sha256sum | cut -d' ' -f1)
  if [[ -f web/dist/.sources-hash && "$(cat web/dist/.sources-hash)" == "$hash" ]]; then
    return 0
  fi
  if [[ ! -f web/node_modules/.package-lock.json \
     || web/package-lock.json -nt web/node_modules/.package-lock.json ]]; then
    echo "installing the portal's node packages (npm ci)..." >&2
    (cd web && npm ci --no-audit --no-fund --loglevel=error) >&2
  fi
  echo "building the portal (web/)..." >&2
  (cd web && npm run --silent build) >&2
  echo "$hash" > web/dist/.sources-hash
}
build_web

# Debian's chromium for the browser tests (tests/e2e), installed with apt-get where we may
# (as root, or in CI with password-less sudo); the tests skip themselves without it.
ensure_browser() {
  apt_install /usr/bin/chromium chromium "the browser tests"
}

# Debian's nginx (the portal's nginx.conf, run in tests/deploy) and promtool (from the prometheus
# package: the alerting rules' unit tests); their tests skip themselves without them. The tests
# run their own nginx; the servers the packages start under systemd are stopped.
ensure_deploy_tools() {
  apt_install /usr/sbin/nginx nginx-light "the nginx tests" nginx
  apt_install /usr/bin/promtool prometheus "the alerting rule tests" prometheus
}

# apt_install BINARY PACKAGE PURPOSE [SERVICE]: install PACKAGE with apt-get unless BINARY
# exists, where we may (as root, or in CI with password-less sudo), and stop and disable the
# systemd SERVICE it starts.
apt_install() {
  if [[ -x "$1" ]] || ! command -v apt-get >/dev/null; then return 0; fi
  local sudo=()
  if [[ $(id -u) -ne 0 ]]; then
    if [[ -n "${CI:-}" ]] && sudo -n true 2>/dev/null; then sudo=(sudo -n); else return 0; fi
  fi
  echo "installing Debian's $2 for $3..." >&2
  { "${sudo[@]}" apt-get update -q \
    && DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -q --no-install-recommends \
      "$2"; } >&2 || { echo "$2 could not be installed: $3 will skip" >&2; return 0; }
  if [[ -n "${4:-}" && -d /run/systemd/system ]]; then
    "${sudo[@]}" systemctl disable --now "$4" >&2 || true
  fi
}
