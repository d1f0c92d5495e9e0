from __future__ import annotations

import json

import httpx
import pytest
from dxc_shared.logging import configure_logging, get_logger, log_context
from pydantic import ValidationError
from scheduler.settings import SchedulerSettings


def test_settings_read_their_own_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SCHEDULER_DATABASE_URL", "postgresql+asyncpg://db/dxc")
    monkeypatch.setenv("SCHEDULER_BROKER_URL", "amqp://rabbit/")
    monkeypatch.setenv("INVOICE_SYNC_PORT", "9999")  # another service's variable

    settings = SchedulerSettings()

    assert settings.database_url == "postgresql+asyncpg://db/dxc"
    assert settings.port == 8001


def test_settings_fail_fast_naming_what_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SCHEDULER_DATABASE_URL", raising=False)
    monkeypatch.delenv("SCHEDULER_BROKER_URL", raising=False)

    with pytest.raises(ValidationError) as error:
        SchedulerSettings()

    missing = {str(item["loc"][0]) for item in error.value.errors()}
    assert missing == {"database_url", "broker_url"}


def test_logs_are_json_lines_with_correlation_and_connection_ids(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging("scheduler")
    with log_context(correlation_id="corr-9", connection_id="conn-3"):
        get_logger("test").info("invoice.synced", invoice="INV-0001")
    get_logger("test").info("after")

    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert lines[0]["event"] == "invoice.synced"
    assert lines[0]["correlation_id"] == "corr-9"
    assert lines[0]["connection_id"] == "conn-3"
    assert lines[0]["service"] == "scheduler"
    assert "correlation_id" not in lines[1], "ids must not leak past their unit of work"


@pytest.mark.parametrize("level", ["INFO", "DEBUG"])
async def test_vendor_calls_log_at_debug_without_their_query_values(
    level: str, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging("invoice-sync", level=level)
    transport = httpx.MockTransport(lambda request: httpx.Response(200, json={}))
    async with httpx.AsyncClient(transport=transport) as client:
        await client.get(
            "https://org.crm.dynamics.com/api/data/v9.2/accounts",
            params={"$filter": "name eq 'Contoso Pharmaceuticals'", "$top": "1"},
        )

    out = capsys.readouterr().out
    assert "Contoso" not in out
    calls = [json.loads(line) for line in out.splitlines() if "HTTP Request" in line]
    if level == "INFO":
        assert calls == []
    else:
        [call] = calls
        assert call["level"] == "debug"
        assert "/api/data/v9.2/accounts?$filter=redacted&$top=redacted" in call["event"]
