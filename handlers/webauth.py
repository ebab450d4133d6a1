"""Who opened the dashboard: a Mini App's `initData`, checked the way Telegram documents it.

Telegram hands the page a query string (`query_id=…&user={…}&auth_date=…&hash=…`) signed with
the bot's token: the data-check string is every field but `hash`, sorted by key, as `key=value`
lines; the secret key is HMAC-SHA256 of the token under the key "WebAppData"; `hash` is the
hex HMAC-SHA256 of the data-check string under that secret key. Only someone holding the token
(Telegram, or us) can sign, so a valid `initData` names a real Telegram user; `auth_date`
bounds how long a captured one can be replayed. (The newer Ed25519 `signature` field is for
third parties without the token; it is part of the signed fields here like any other.)
See https://core.telegram.org/bots/webapps#validating-data-received-via-the-mini-app
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode

MAX_AGE = dt.timedelta(hours=1)
MAX_LENGTH = 8192  # Telegram's initData is well under 1 KB; a long one is not one
# A little clock skew between Telegram's servers and ours is not an attack.
SKEW = dt.timedelta(minutes=5)


class InvalidInitData(Exception):
    """Not a valid initData; the reason is for the log, never for the person."""


@dataclass(frozen=True)
class WebAppUser:
    id: int
    first_name: str
    language_code: str | None
    auth_date: dt.datetime


def _secret(token: str) -> bytes:
    return hmac.new(b"WebAppData", token.encode(), hashlib.sha256).digest()


def _check_string(fields: dict[str, str]) -> bytes:
    return "\n".join(f"{key}={fields[key]}" for key in sorted(fields)).encode()


def sign(fields: dict[str, str], token: str) -> str:
    """An initData query string with `fields` signed by `token` (what Telegram sends)."""
    digest = hmac.new(_secret(token), _check_string(fields), hashlib.sha256).hexdigest()
    return urlencode({**fields, "hash": digest})


def validate(
    init_data: str, token: str, now: dt.datetime, max_age: dt.timedelta = MAX_AGE
) -> WebAppUser:
    """The user `init_data` names, if Telegram signed it with our token less than `max_age`
    ago; InvalidInitData otherwise."""
    if not init_data or len(init_data) > MAX_LENGTH:
        raise InvalidInitData("missing or too long")
    try:
        pairs = parse_qsl(init_data, keep_blank_values=True, strict_parsing=True)
    except ValueError:
        raise InvalidInitData("not a query string") from None
    fields = dict(pairs)
    if len(fields) != len(pairs):
        raise InvalidInitData("a field given twice")
    given = fields.pop("hash", "")
    expected = hmac.new(_secret(token), _check_string(fields), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(given.encode(), expected.encode()):
        raise InvalidInitData("wrong signature")
    try:
        signed_at = dt.datetime.fromtimestamp(int(fields["auth_date"]), dt.UTC)
        user = json.loads(fields["user"])
        user_id = user["id"]
    except (KeyError, ValueError, TypeError, OverflowError, OSError):
        raise InvalidInitData("no auth_date or no user") from None
    if not isinstance(user_id, int) or isinstance(user_id, bool) or user_id <= 0:
        raise InvalidInitData("no user id")
    if signed_at > now + SKEW:
        raise InvalidInitData("signed in the future")
    if now - signed_at > max_age:
        raise InvalidInitData("expired")
    language = user.get("language_code")
    first_name = user.get("first_name")
    return WebAppUser(
        id=user_id,
        first_name=first_name if isinstance(first_name, str) else "",
        language_code=language if isinstance(language, str) else None,
        auth_date=signed_at,
    )
