# syntax=docker/dockerfile:1.7
# One image for every dx-connector process; the command picks the process:
#   portal-api | scheduler | invoice-sync | payment-sync | token-broker   (the five services)
#   dxc-migrate upgrade                                                   (the migration job)
#   xero-sandbox | dynamics-sandbox                                       (the emulators)
# Build from the repository root: docker build -t dx-connector .

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ghcr.io/astral-sh/uv:0.13.9 AS uv

FROM ${PYTHON_IMAGE} AS build
COPY --from=uv /uv /usr/local/bin/uv
ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PYTHON=/usr/local/bin/python3.11 \
    UV_PROJECT_ENVIRONMENT=/app/.venv
WORKDIR /src

# Layer 1, third-party dependencies only: it is rebuilt when uv.lock or a pyproject changes, not
# when code does. uv needs every workspace member's pyproject.toml to read the lock.
COPY pyproject.toml uv.lock ./
COPY shared/pyproject.toml shared/
COPY services/portal-api/pyproject.toml services/portal-api/
COPY services/scheduler/pyproject.toml services/scheduler/
COPY services/invoice-sync/pyproject.toml services/invoice-sync/
COPY services/payment-sync/pyproject.toml services/payment-sync/
COPY services/token-broker/pyproject.toml services/token-broker/
COPY sandboxes/xero/pyproject.toml sandboxes/xero/
COPY sandboxes/dynamics/pyproject.toml sandboxes/dynamics/
COPY sandboxes/kit/pyproject.toml sandboxes/kit/
COPY dxc/pyproject.toml dxc/
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --no-install-workspace

# Layer 2, our own packages, installed as wheels (not editable) so the runtime image needs no
# source tree.
COPY shared shared
COPY services services
COPY sandboxes sandboxes
COPY dxc dxc
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --no-editable

FROM ${PYTHON_IMAGE} AS runtime
LABEL org.opencontainers.image.title="dx-connector" \
      org.opencontainers.image.description="Dynamics 365 Sales <-> Xero connector: services, migrations and sandboxes"
RUN groupadd --system --gid 10001 dxc \
    && useradd --system --uid 10001 --gid dxc --home-dir /app --shell /usr/sbin/nologin dxc
COPY --from=build --chown=root:root /app/.venv /app/.venv
ENV PATH=/app/.venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    DXC_HEALTHCHECK_URL=http://127.0.0.1:8000/healthz
WORKDIR /app
USER 10001:10001
# Every service listens on 8000 in its container (set <PREFIX>PORT=8000) and answers /healthz;
# the sandboxes point DXC_HEALTHCHECK_URL at their own port. Liveness only: readiness (/readyz)
# is the orchestrator's business.
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen(os.environ['DXC_HEALTHCHECK_URL'], timeout=4)"]
EXPOSE 8000
CMD ["portal-api"]
