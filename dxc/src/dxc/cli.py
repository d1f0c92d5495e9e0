"""`dxc dev`: run the whole product in one process (embedded mode)."""

from __future__ import annotations

import argparse
from pathlib import Path

import uvicorn
from dxc_shared.logging import configure_logging

from dxc.embedded import create_embedded_app


def main() -> None:
    parser = argparse.ArgumentParser(prog="dxc", description="dx-connector")
    commands = parser.add_subparsers(dest="command", required=True)
    dev = commands.add_parser(
        "dev", help="run every service and both sandboxes in one process, on SQLite"
    )
    dev.add_argument("--host", default="127.0.0.1")
    dev.add_argument("--port", type=int, default=8080)
    dev.add_argument(
        "--data-dir", type=Path, default=Path(".dxc"), help="where the SQLite database lives"
    )
    dev.add_argument("--log-format", choices=["json", "console"], default="console")
    args = parser.parse_args()

    configure_logging("embedded", fmt=args.log_format)
    print(f"dx-connector embedded mode: http://{args.host}:{args.port}/", flush=True)
    uvicorn.run(
        create_embedded_app(args.data_dir, f"http://{args.host}:{args.port}"),
        host=args.host,
        port=args.port,
        log_config=None,
        timeout_graceful_shutdown=20,
    )
