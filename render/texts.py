"""The texts catalog: every user-facing string, in gettext `.po` files under render/locales.

Messages are keyed (`msgid` is a key such as "checkin_ok", `msgstr` the text with
`str.format` placeholders). Chinese (zh_CN) is the default and complete by definition;
every other language must hold the same keys with the same placeholders (tests check it),
and falls back to Chinese for a key it lacks. A message whose wording depends on a number
is a plural entry (`msgid_plural`), with a comment `#. plural: NAME` naming the parameter
that carries the number; Chinese has one form, English two.

Who reads a text decides its language: `t` speaks the language of the update being handled
(`speaking` sets it: the person's in a private chat, the group's in a group), `t_in` a given
one (another person's, a group's). The .po files are read and compiled in memory at import,
so there is no build step and no compiled file to go stale. To add a language see README.
"""

from __future__ import annotations

import contextlib
import gettext
import io
import string
from collections.abc import Callable, Iterable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from db import rules
from db.models import Member
from db.rules import DEFAULT_LANGUAGE

MESSAGE_LIMIT = 4096
TOAST_LIMIT = 200

# The code a person or group is stored with (db.rules.LANGUAGES) → its locale directory.
LANGUAGES: dict[str, str] = {"zh": "zh_CN", "en": "en"}
assert tuple(LANGUAGES) == rules.LANGUAGES
LOCALES_DIR = Path(__file__).with_name("locales")
DOMAIN = "messages"
PLURAL_COMMENT = "plural: "


def read_catalog(language: str) -> Catalog:
    """The .po catalog of `language` (a key of LANGUAGES), as Babel reads it."""
    locale = LANGUAGES[language]
    path = LOCALES_DIR / locale / "LC_MESSAGES" / f"{DOMAIN}.po"
    with path.open("rb") as f:
        return read_po(f, locale=locale, domain=DOMAIN)


def fields(text: str) -> set[str]:
    """The placeholder names in a `str.format` text."""
    return {
        name.split(".")[0].split("[")[0] for _, name, _, _ in string.Formatter().parse(text) if name
    }


def plural_parameter(message: Any) -> str | None:
    """For a plural entry, the parameter carrying its number (from `#. plural: NAME`)."""
    for comment in message.auto_comments:
        if comment.startswith(PLURAL_COMMENT):
            return str(comment.removeprefix(PLURAL_COMMENT).strip())
    return None


@dataclass(frozen=True)
class _Language:
    translations: gettext.GNUTranslations
    plurals: dict[str, str]  # key → the parameter that carries the number
    keys: frozenset[str]


def _compile(catalog: Catalog) -> gettext.GNUTranslations:
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)


def _load() -> dict[str, _Language]:
    loaded: dict[str, _Language] = {}
    for language in LANGUAGES:
        catalog = read_catalog(language)
        plurals = {
            str(m.id[0]): name
            for m in catalog
            if m.id and m.pluralizable and (name := plural_parameter(m)) is not None
        }
        keys = frozenset(str(m.id[0] if m.pluralizable else m.id) for m in catalog if m.id)
        loaded[language] = _Language(_compile(catalog), plurals, keys)
    default = loaded[DEFAULT_LANGUAGE]
    for language, entry in loaded.items():
        if language != DEFAULT_LANGUAGE:
            entry.translations.add_fallback(default.translations)
    return loaded


_LANGUAGES = _load()
KEYS = _LANGUAGES[DEFAULT_LANGUAGE].keys  # every text's key (the default is complete)
_speaking: ContextVar[str] = ContextVar("speaking", default=DEFAULT_LANGUAGE)


def current_language() -> str:
    return _speaking.get()


@contextlib.contextmanager
def speaking(language: str | None) -> Iterator[None]:
    """Within the block, `t` speaks `language` (None or unknown: the default)."""
    token = _speaking.set(language if language in LANGUAGES else DEFAULT_LANGUAGE)
    try:
        yield
    finally:
        _speaking.reset(token)


def t_in(language: str | None, key: str, /, **params: Any) -> str:
    """The text `key` in `language`, formatted with `params`."""
    entry = _LANGUAGES.get(language or DEFAULT_LANGUAGE) or _LANGUAGES[DEFAULT_LANGUAGE]
    count = entry.plurals.get(key)
    if count is None:
        text = entry.translations.gettext(key)
    else:
        n = _plural_number(params[count])
        text = entry.translations.ngettext(key, key, n)
    return text.format(**params)


def _plural_number(value: Any) -> int:
    """The integer gettext chooses a form by: 1.5 hours is plural, 1.0 (or "1") hour is not."""
    if isinstance(value, int):
        return value
    try:
        number = float(value)
    except (TypeError, ValueError):
        return 2
    return int(number) if number.is_integer() else 2


def listing(items: Iterable[str]) -> str:
    """Items joined as the language being spoken lists them (、 in Chinese, ", " in English)."""
    return t("list_separator").join(items)


def template(key: str, language: str = DEFAULT_LANGUAGE) -> str:
    """The unformatted text `key` (a plural entry's "many" form), for checks and tests."""
    entry = _LANGUAGES[language]
    if key in entry.plurals:
        return entry.translations.ngettext(key, key, 2)
    return entry.translations.gettext(key)


def t(key: str, /, **params: Any) -> str:
    """The text `key` in the language being spoken (see `speaking`), formatted."""
    return t_in(_speaking.get(), key, **params)


T = TypeVar("T")


class PerLanguage(Generic[T]):
    """One message for several readers, rendered in each reader's language (`render` calls
    `t`); rendered once per language however many read it."""

    def __init__(self, render: Callable[[], T]) -> None:
        self._render = render
        self._rendered: dict[str, T] = {}

    def __call__(self, language: str | None) -> T:
        code = language if language in LANGUAGES else DEFAULT_LANGUAGE
        if code not in self._rendered:
            with speaking(code):
                self._rendered[code] = self._render()
        return self._rendered[code]


# Answers typed in chat instead of pressing a button (see db.rules.classify_reply): the whole
# message, once punctuation, emoji and a closing particle are dropped, must be one of these.
# Either language's words count, whatever the group's language (spaces are dropped first).
REPLY_WORDS: dict[str, frozenset[str]] = {
    "ack": frozenset(
        {"收到", "已收到", "收", "好的收到", "好收到", "已阅", "明白", "1", "👍", "👌", "ok收到"}
        | {"gotit", "received", "noted", "okgotit"}
    ),
    "roll": frozenset({"到", "签到", "已到", "我到了"} | {"here", "present", "imhere"}),
}


def named(real_name: str | None, first_name: str | None) -> str:
    """A person's name as shown: the real name, else the Telegram name; 已注销成员 for someone
    who erased what the bot kept about them (/forget), who has neither."""
    return real_name or first_name or t("member_erased")


def person_name(member: Member) -> str:
    """`named` for a member row."""
    return member.display_name or t("member_erased")


def namesake(member: Member) -> str:
    """A person told apart from others of the same name: unit, and username or Telegram id
    (or 未登记 for someone imported who has not joined yet)."""
    details = [member.unit.name if member.unit else t("namesake_no_unit")]
    if member.username:
        details.append(f"@{member.username}")
    elif member.telegram_id is not None:
        details.append(t("namesake_id", id=member.telegram_id))
    else:
        details.append(t("namesake_unjoined"))
    return t("namesake", name=person_name(member), details=" · ".join(details))


def unjoined(member: Member) -> str:
    """The mark 未登记 for someone the committee imported who has not joined the bot yet."""
    joined = member.telegram_id is not None or member.registered_at is not None
    return "" if joined else t("members_unregistered")


def clip(text: str, limit: int = MESSAGE_LIMIT) -> str:
    """`text` cut to `limit` characters, marking the cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def paginate(
    header: Callable[[int, int], str], lines: list[str], limit: int = MESSAGE_LIMIT
) -> list[str]:
    """Pack `lines` into as few messages as fit `limit`; each starts with header(page, pages)."""
    reserve = len(header(9999, 9999))
    pages: list[list[str]] = [[]]
    size = reserve
    for raw in lines:
        line = clip(raw, limit - reserve - 1)
        if pages[-1] and size + 1 + len(line) > limit:
            pages.append([])
            size = reserve
        pages[-1].append(line)
        size += 1 + len(line)
    total = len(pages)
    if total == 1:  # one page: no "（1/1）"
        return ["\n".join([_unpaged(header(1, 1)), *pages[0]])]
    return ["\n".join([header(i, total), *page]) for i, page in enumerate(pages, 1)]


def _unpaged(header: str) -> str:
    """A page header without its page counter, in either of the catalog's forms."""
    for key in ("page_mark", "page_mark_words"):
        header = header.replace(t(key, page=1, pages=1), "")
    return header
