"""``dynamics-sandbox``: serve the sandbox with uvicorn, configured from the environment."""

from __future__ import annotations

import uvicorn

from .app import create_app
from .settings import DynamicsSandboxSettings


def main() -> None:
    settings = DynamicsSandboxSettings()
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        ssl_certfile=settings.ssl_certfile,
        ssl_keyfile=settings.ssl_keyfile,
    )


if __name__ == "__main__":
    main()
