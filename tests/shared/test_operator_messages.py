"""What an operator reads: a service started without a required setting says which variable in
one line (no traceback, no secret), and `dxc-migrate` says what it did or why it could not."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from dxc_shared.settings import SettingsError, load_settings
from scheduler.settings import SchedulerSettings

BIN = Path(sys.executable).parent


def _run(command: str, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PAYMENT_SYNC_", "DXC_MIGRATE_"))
    }
    return subprocess.run(
        [str(BIN / command), *args],
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_a_missing_setting_is_named_by_its_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SCHEDULER_DATABASE_URL", raising=False)
    monkeypatch.setenv("SCHEDULER_BROKER_URL", "amqp://user:HiddenBrokerPassword@rabbit/")
    monkeypatch.setenv("SCHEDULER_TICK_SECONDS", "-1")

    with pytest.raises(SettingsError) as error:
        load_settings(SchedulerSettings)

    message = str(error.value)
    assert "SCHEDULER_DATABASE_URL is required" in message
    assert "SCHEDULER_TICK_SECONDS is not valid" in message
    assert "HiddenBrokerPassword" not in message
    assert "\n" not in message


def test_a_service_without_a_required_setting_exits_with_one_line() -> None:
    secret = "SuperSecretApiKey"
    result = _run(
        "payment-sync",
        env={
            "PAYMENT_SYNC_BROKER_URL": "memory://",
            "PAYMENT_SYNC_TOKEN_BROKER_URL": "http://127.0.0.1:9",
            "PAYMENT_SYNC_TOKEN_BROKER_API_KEY": secret,
            "PAYMENT_SYNC_XERO_WEBHOOK_KEY": secret,
        },
    )

    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "PAYMENT_SYNC_DATABASE_URL is required" in output
    assert "Traceback" not in output
    assert secret not in output
    assert len(output.strip().splitlines()) == 1, output


def test_migrate_says_what_it_applied(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite3'}"

    first = _run("dxc-migrate", "upgrade", "0007", "--database-url", url, env={})
    second = _run("dxc-migrate", "--database-url", url, env={})
    third = _run("dxc-migrate", env={"DXC_MIGRATE_DATABASE_URL": url})

    assert first.returncode == 0, first.stderr
    assert first.stdout.strip().endswith(
        "database at revision 0007; applied 0001, 0002, 0003, 0004, 0005, 0006, 0007"
    )
    assert "; applied 0008, 0009" in second.stdout
    assert "(head)" in second.stdout
    assert third.stdout.strip().endswith("(head); nothing to do")


def test_migrate_failures_are_one_line_of_words() -> None:
    unreachable = "postgresql+asyncpg://dxc:HiddenDbPassword@127.0.0.1:1/nowhere"

    failed = _run("dxc-migrate", "--database-url", unreachable, env={})
    unset = _run("dxc-migrate", env={})

    assert failed.returncode != 0
    assert failed.stderr.startswith("dxc-migrate: upgrade failed: ")
    assert len(failed.stderr.strip().splitlines()) == 1, failed.stderr
    assert "HiddenDbPassword" not in failed.stderr
    assert unset.returncode != 0
    assert "DXC_MIGRATE_DATABASE_URL is required" in unset.stderr
    assert "Traceback" not in failed.stderr + unset.stderr
