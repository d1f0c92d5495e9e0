"""E-mail goes out only if its transaction commits, and a failed send is retried later."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from dxc_shared.db import Database
from portal_api.kit.email import EmailRelay, MailboxSender, OutgoingEmail, enqueue_email
from portal_api.kit.time import utcnow
from sqlalchemy import select, update


async def failing_request(database: Database, address: str) -> None:
    async with database.unit_of_work() as session:
        enqueue_email(session, to=address, subject="Never", body="never sent")
        raise RuntimeError("the request failed after queueing the e-mail")


async def test_rolled_back_mail_is_never_sent_and_failures_are_retried(
    migrated_postgres: str, tmp_path: Path
) -> None:
    database = Database(migrated_postgres)
    box = tmp_path / "mailbox"
    box.write_text("a file where the mailbox folder should be: every send fails")
    relay = EmailRelay(
        database, MailboxSender(box), sender_address="dxc <no-reply@dxc.example>", poll_seconds=1
    )
    rolled_back, kept = (f"{uuid.uuid4().hex[:8]}@example.com" for _ in range(2))
    try:
        with pytest.raises(RuntimeError):
            await failing_request(database, rolled_back)
        async with database.unit_of_work() as session:
            enqueue_email(session, to=kept, subject="Welcome", body="Hello\nthere")

        await relay.send_pending()
        async with database.unit_of_work() as session:
            rows = (
                await session.scalars(
                    select(OutgoingEmail).where(OutgoingEmail.recipient.in_([rolled_back, kept]))
                )
            ).all()
            assert [row.recipient for row in rows] == [kept]
            [row] = rows
            assert row.sent_at is None
            assert row.attempts == 1
            assert row.last_error is not None
            assert "FileExistsError" in row.last_error
            assert row.next_attempt_at > utcnow()

        assert await relay.send_pending() == 0  # not due yet
        box.unlink()
        async with database.unit_of_work() as session:
            await session.execute(
                update(OutgoingEmail)
                .where(OutgoingEmail.recipient == kept)
                .values(next_attempt_at=utcnow() - timedelta(seconds=1))
            )
        assert await relay.send_pending() >= 1

        [sent] = [
            json.loads(path.read_text())
            for path in box.glob("*.json")
            if json.loads(path.read_text())["to"] == kept
        ]
        assert (sent["subject"], sent["body"]) == ("Welcome", "Hello\nthere\n")
        assert sent["from"] == "dxc <no-reply@dxc.example>"
        eml = (box / f"{sent['id']}.eml").read_text()
        assert f"To: {kept}" in eml
        assert "Subject: Welcome" in eml
        async with database.unit_of_work() as session:
            sent_row = await session.scalar(
                select(OutgoingEmail).where(OutgoingEmail.recipient == kept)
            )
            assert sent_row is not None
            assert sent_row.sent_at is not None
    finally:
        await database.dispose()
