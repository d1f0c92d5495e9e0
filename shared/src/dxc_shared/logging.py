"""JSON logs that carry the correlation id and the connection id of the work in hand.

Both ids live in context variables: HTTP middleware and bus consumers bind them, and every log
line written below that point carries them, whatever module writes it.

httpx logs every vendor call at INFO with its full URL, and the query names customers
(`$filter=name eq 'Contoso'`): those lines are demoted to DEBUG with the query's values redacted.
"""

from __future__ import annotations

import logging
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Literal
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import structlog

CORRELATION_ID = "correlation_id"
CONNECTION_ID = "connection_id"
REDACTED = "redacted"


class VendorCallFilter(logging.Filter):
    """For httpx's logger: each request line at DEBUG, its query values redacted."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno == logging.INFO:
            record.levelno, record.levelname = logging.DEBUG, "DEBUG"
        # httpx checked its level against INFO before writing the line; check DEBUG now.
        if record.levelno < logging.getLogger(record.name).getEffectiveLevel():
            return False
        if isinstance(record.args, tuple):
            record.args = tuple(redact_query(arg) for arg in record.args)
        return True


def redact_query(value: object) -> object:
    """A URL (httpx's or a string) with every query value replaced; anything else as it is."""
    text = str(value)
    if not text.startswith(("http://", "https://")):
        return value
    parts = urlsplit(text)
    if not parts.query:
        return value
    query = urlencode(
        [(name, REDACTED) for name, _ in parse_qsl(parts.query, keep_blank_values=True)],
        safe="$",
    )
    return urlunsplit(parts._replace(query=query))


_VENDOR_CALLS = VendorCallFilter()


def configure_logging(
    service: str,
    *,
    level: str = "INFO",
    fmt: Literal["json", "console"] = "json",
) -> None:
    """Route structlog and the standard library's logging through one JSON renderer."""
    shared_processors: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.format_exc_info,
    ]
    renderer: Any = (
        structlog.processors.JSONRenderer()
        if fmt == "json"
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[*shared_processors, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared_processors,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            renderer,
        ],
    )
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(level)
    # uvicorn's access log duplicates our request metrics and logs; keep its errors only.
    logging.getLogger("uvicorn.access").setLevel("WARNING")
    logging.getLogger("httpx").addFilter(_VENDOR_CALLS)  # once: addFilter skips a repeat
    structlog.contextvars.bind_contextvars(service=service)


def get_logger(name: str) -> structlog.stdlib.BoundLogger:
    logger: structlog.stdlib.BoundLogger = structlog.stdlib.get_logger(name)
    return logger


def new_correlation_id() -> str:
    return uuid.uuid4().hex


def current_log_context() -> dict[str, str]:
    """The correlation and connection ids bound now, for copying onto outgoing messages."""
    bound = structlog.contextvars.get_contextvars()
    return {key: str(bound[key]) for key in (CORRELATION_ID, CONNECTION_ID) if bound.get(key)}


@contextmanager
def log_context(**values: str | None) -> Iterator[None]:
    """Bind ids for the duration of one unit of work (a request, a message)."""
    present = {key: value for key, value in values.items() if value}
    with structlog.contextvars.bound_contextvars(**present):
        yield
