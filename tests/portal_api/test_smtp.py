"""Production e-mail: the relay hands each message to an SMTP server (a real one, on loopback)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from email import message_from_bytes
from email.message import Message
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from dxc_shared.db import Database
from portal_api.app import mail_sender
from portal_api.kit.email import EmailRelay, SmtpSender, enqueue_email

from tests.portal_api.conftest import portal_settings
from tests.support.http_server import free_port


class Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], Message]] = []

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:
        self.messages.append(
            (envelope.mail_from, list(envelope.rcpt_tos), message_from_bytes(envelope.content))
        )
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp_server() -> Iterator[tuple[int, Inbox]]:
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port, inbox
    finally:
        controller.stop()


async def test_mail_goes_out_over_smtp_without_a_mailbox(
    smtp_server: tuple[int, Inbox], migrated_postgres: str, tmp_path: Path
) -> None:
    port, inbox = smtp_server
    settings = portal_settings(
        database_url=migrated_postgres,
        broker_url="memory://",
        namespace="unused",
        mailbox=tmp_path,
        token_broker_url="http://unused",
        xero=None,
        dynamics=None,
        mailbox_dir=None,
        smtp_host="127.0.0.1",
        smtp_port=port,
        smtp_starttls=False,
        email_from="dx-connector <no-reply@dxc.example>",
    )
    sender = mail_sender(settings)
    assert isinstance(sender, SmtpSender)

    database = Database(migrated_postgres)
    relay = EmailRelay(database, sender, sender_address=settings.email_from, poll_seconds=1)
    address = f"{uuid.uuid4().hex[:8]}@example.com"
    try:
        async with database.unit_of_work() as session:
            enqueue_email(session, to=address, subject="Confirm your address", body="Click it")
        assert await relay.send_pending() >= 1
    finally:
        await database.dispose()

    [(mail_from, recipients, message)] = [m for m in inbox.messages if address in m[1]]
    assert mail_from == "no-reply@dxc.example"
    assert recipients == [address]
    assert message["Subject"] == "Confirm your address"
    assert message["From"] == "dx-connector <no-reply@dxc.example>"
    assert message.get_payload(decode=True) == b"Click it\r\n"  # SMTP line endings
