"""The `dxc` command: `dxc dev` runs the whole product in one process (embedded mode);
`dxc review-settings` and `dxc hand-over` play the Dynamics user in its demo; `dxc dlq` lists,
shows and replays dead-lettered messages on a RabbitMQ bus; `dxc solution` writes the
connector's Dynamics solution package (the same file the portal imports and offers)."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path
from typing import Literal

import uvicorn
from dxc_shared.dynamics import solution
from dxc_shared.dynamics.schema import DefaultInvoiceStatus
from dxc_shared.logging import configure_logging

from dxc import demo, dlq
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
    hand_over = commands.add_parser(
        "hand-over",
        help="in the embedded mode's Dynamics sandbox, hand invoices to the connector (what a "
        "Dynamics user does by setting an invoice's Connector field)",
    )
    hand_over.add_argument("invoice_numbers", nargs="+", metavar="INVOICE_NUMBER")
    review = commands.add_parser(
        "review-settings",
        help="in the embedded mode's Dynamics sandbox, save the connector's settings (what a "
        "Dynamics user does in its settings form)",
    )
    review.add_argument(
        "--default-status",
        choices=[status.name for status in DefaultInvoiceStatus],
        default=DefaultInvoiceStatus.AUTHORISED.name,
        help="the status new invoices get in Xero (AUTHORISED lets them be paid)",
    )
    dlq.add_commands(commands)
    package = commands.add_parser(
        "solution",
        help="write the connector's Dynamics 365 solution (.zip) for an administrator to import "
        "under Settings > Solutions",
    )
    package.add_argument("--out", type=Path, default=Path("."), help="the folder to write to")
    for command in (hand_over, review):
        command.add_argument("--url", default="http://127.0.0.1:8080", help="where dxc dev runs")
        command.add_argument("--org", default="demo", help="the Dynamics sandbox organisation")
    args = parser.parse_args()

    if args.command == "dev":
        run_embedded(args.host, args.port, args.data_dir, args.log_format)
        return
    if args.command == "solution":
        built = solution.build()
        path = args.out / built.file_name
        path.write_bytes(built.content)
        print(f"wrote {path} (version {built.version})")
        return
    try:
        if args.command == "dlq":
            print(dlq.run(args))
        elif args.command == "hand-over":
            ids = asyncio.run(demo.hand_over(args.url, args.invoice_numbers, org=args.org))
            print(f"handed {len(ids)} invoice(s) to the connector; the next sync takes them")
        else:
            status = DefaultInvoiceStatus[args.default_status]
            asyncio.run(demo.review_settings(args.url, org=args.org, default_status=status))
            print("settings saved; choose Refresh on the connection's page in the portal")
    except (demo.HandOverError, dlq.DeadLetterError) as error:
        raise SystemExit(f"dxc {args.command}: {error}") from None


def run_embedded(
    host: str, port: int, data_dir: Path, log_format: Literal["json", "console"]
) -> None:
    configure_logging("embedded", fmt=log_format)
    print(f"dx-connector embedded mode: http://{host}:{port}/", flush=True)
    uvicorn.run(
        create_embedded_app(data_dir, f"http://{host}:{port}"),
        host=host,
        port=port,
        log_config=None,
        timeout_graceful_shutdown=20,
        proxy_headers=False,  # no proxy in front: X-Forwarded-For is the client's own words
    )
