"""Logging set-up that keeps secrets and what people wrote out of every log line.

The bot token and the webhook secret are replaced by <redacted> in every record, at every
level (bot.http logs each Bot API request's URL at DEBUG, and it contains the token).
python-telegram-bot logs each Bot API call with its parameters and its answer, and each
update it processes, at DEBUG: those carry message texts and, for setWebhook, the secret, so
only the method's name and the update's number are kept. aiosqlite logs every statement with
its parameters at DEBUG: those are withheld too.
"""

from __future__ import annotations

import logging
from typing import Any

_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
_secrets: set[str] = set()
_base_factory = logging.getLogRecordFactory()
# python-telegram-bot's DEBUG lines around every Bot API call: (endpoint, parameters | answer).
_API_CALL_LINES = (
    "Calling Bot API endpoint `%s` with parameters `%s`",
    "Call to Bot API endpoint `%s` finished with return value `%s`",
)
WITHHELD = "<withheld>"


def _withheld(value: Any) -> Any:
    """An update in a library's log line: its number only."""
    update_id = getattr(value, "update_id", None)
    return f"update #{update_id}" if isinstance(update_id, int) else value


def _redacting_factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
    record = _base_factory(*args, **kwargs)
    if record.name.startswith("telegram") and isinstance(record.args, tuple) and record.args:
        if record.msg in _API_CALL_LINES:
            record.args = (record.args[0], WITHHELD)
        else:
            record.args = tuple(_withheld(arg) for arg in record.args)
    elif record.name.startswith("aiosqlite") and isinstance(record.args, tuple):
        record.args = tuple(WITHHELD for _ in record.args)
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


def redact(secret: str | None) -> None:
    """Make every log record created from now on replace `secret` with <redacted>."""
    if secret:
        _secrets.add(secret)
        # The token also appears URL-quoted inside request URLs.
        _secrets.add(secret.replace(":", "%3A"))
    logging.setLogRecordFactory(_redacting_factory)


def configure_logging(level: str, *secrets: str | None) -> None:
    """Log to stderr at `level`; quiet chatty libraries; never print a secret."""
    logging.basicConfig(level=level, format=_FORMAT)
    # httpx logs every request URL (which contains the token) at INFO.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    for secret in secrets:
        redact(secret)
