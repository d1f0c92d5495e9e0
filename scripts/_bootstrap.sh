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
