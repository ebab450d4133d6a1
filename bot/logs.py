"""Logging set-up that keeps the bot token out of every log line."""

from __future__ import annotations

import logging
from typing import Any

_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
_secrets: set[str] = set()
_base_factory = logging.getLogRecordFactory()


def _redacting_factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
    record = _base_factory(*args, **kwargs)
    if _secrets:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record is logging's problem to report, not ours
            return record
        if any(s in message for s in _secrets):
            for secret in _secrets:
                message = message.replace(secret, "<redacted>")
            record.msg, record.args = message, None
    return record


def redact(secret: str) -> None:
    """Make every log record created from now on replace `secret` with <redacted>."""
    if secret:
        _secrets.add(secret)
        # The token also appears URL-quoted inside request URLs.
        _secrets.add(secret.replace(":", "%3A"))
    logging.setLogRecordFactory(_redacting_factory)


def configure_logging(level: str, token: str) -> None:
    """Log to stderr at `level`; quiet chatty libraries; never print the token."""
    logging.basicConfig(level=level, format=_FORMAT)
    # httpx logs every request URL (which contains the token) at INFO.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    redact(token)
