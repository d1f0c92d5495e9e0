"""``xero-sandbox``: serve the sandbox with uvicorn, configured from the environment."""

from __future__ import annotations

import uvicorn

from .app import create_app
from .settings import XeroSandboxSettings


def main() -> None:
    settings = XeroSandboxSettings()
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port)


if __name__ == "__main__":
    main()
