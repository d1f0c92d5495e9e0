"""Reads the embedded mode's development mailbox: portal-api writes each email it sends as a
file (.eml or .json) under the data directory instead of sending it."""

from __future__ import annotations

import email
import email.policy
import json
import re
import time
from pathlib import Path


def _texts(path: Path) -> list[str]:
    if path.suffix == ".eml":
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        texts = [str(message.get("To", "")), str(message.get("Subject", ""))]
        for part in message.walk():
            if part.get_content_maintype() == "text":
                texts.append(part.get_content())
        return texts
    return [json.dumps(json.loads(path.read_text()))]


def wait_for_link(data_dir: Path, to: str, page_path: str, *, within: float = 60.0) -> str:
    """The newest link to `page_path` (e.g. "/confirm") in a mail to `to`; waits for the mail."""
    pattern = re.compile(rf"https?://[^\s\"'<>\\]+{re.escape(page_path)}\?token=[^\s\"'<>\\&]+")
    deadline = time.monotonic() + within
    while True:
        mails = sorted(
            (p for p in data_dir.rglob("*") if p.suffix in (".eml", ".json") and p.is_file()),
            key=lambda p: p.stat().st_mtime,
            reverse=True,
        )
        for mail in mails:
            texts = _texts(mail)
            if any(to in text for text in texts):
                for text in texts:
                    if found := pattern.search(text):
                        return found.group(0)
        if time.monotonic() > deadline:
            raise AssertionError(f"no mail to {to} with a {page_path} link within {within} s")
        time.sleep(0.2)


def wait_for_mail(data_dir: Path, to: str, subject: str, *, within: float = 60.0) -> str:
    """The text of a mail to `to` whose text has `subject` in it (e.g. a notification's
    subject); waits for the mail."""
    deadline = time.monotonic() + within
    while True:
        for mail in (p for p in data_dir.rglob("*") if p.suffix in (".eml", ".json")):
            texts = _texts(mail) if mail.is_file() else []
            if any(to in text for text in texts) and any(subject in text for text in texts):
                return "\n".join(texts)
        if time.monotonic() > deadline:
            raise AssertionError(f"no mail to {to} about {subject!r} within {within} s")
        time.sleep(0.2)
