"""The catalogs (every key in every language, same placeholders, plural forms) and paging."""

from __future__ import annotations

import re
import string
from typing import Any

import pytest

from db import rules
from handlers.menus import COMMITTEE_COMMANDS, MEMBER_COMMANDS, commands
from render.texts import (
    LANGUAGES,
    fields,
    listing,
    paginate,
    plural_parameter,
    read_catalog,
    speaking,
    t_in,
)


def entries(language: str) -> dict[str, tuple[tuple[str, ...], Any]]:
    """key → (its forms, the message) for every entry of the language's catalog."""
    found: dict[str, tuple[tuple[str, ...], Any]] = {}
    for message in read_catalog(language):
        if not message.id:
            continue  # the header
        key = str(message.id[0] if message.pluralizable else message.id)
        raw = message.string
        forms = tuple(str(f) for f in raw) if isinstance(raw, tuple | list) else (str(raw),)
        assert key not in found, f"{language}: {key} defined twice"
        found[key] = (forms, message)
    return found


CATALOGS = {language: entries(language) for language in LANGUAGES}
ZH = CATALOGS["zh"]


def test_every_key_exists_in_every_language_with_the_same_placeholders() -> None:
    for language, catalog in CATALOGS.items():
        assert catalog.keys() == ZH.keys(), (
            f"{language}: missing {sorted(ZH.keys() - catalog.keys())}, "
            f"extra {sorted(catalog.keys() - ZH.keys())}"
        )
        for key, (forms, message) in catalog.items():
            expected = fields(ZH[key][0][0])
            for form in forms:
                assert form, f"{language}: {key} is not translated"
                assert fields(form) == expected, f"{language}: {key}: {form!r}"
            # A plural entry in one language is one in all, counting the same parameter.
            assert message.pluralizable == ZH[key][1].pluralizable, f"{language}: {key}"
            assert plural_parameter(message) == plural_parameter(ZH[key][1]), key


def test_plural_forms_are_what_each_language_needs() -> None:
    plural = {k for k, (_, m) in CATALOGS["en"].items() if m.pluralizable}
    assert len(plural) >= 10
    for key in plural:
        name = plural_parameter(CATALOGS["en"][key][1])
        assert name in fields(ZH[key][0][0]), key
        assert len(CATALOGS["en"][key][0]) == 2 and len(ZH[key][0]) == 1, key


def dummy(text: str) -> dict[str, Any]:
    """A value for every placeholder that suits its format spec."""
    values: dict[str, Any] = {}
    for _, name, spec, _ in string.Formatter().parse(text):
        if name:
            values[name] = 1.5 if spec and spec[-1] in "fge%" else 1 if spec else "x"
    return values


def test_every_text_formats_in_every_language() -> None:
    for language, catalog in CATALOGS.items():
        for key, (forms, _) in catalog.items():
            for form in forms:
                form.format(**dummy(form))  # raises on a malformed placeholder
            assert "{" not in t_in(language, key, **dummy(forms[0])).replace("{{", ""), key


def test_english_chooses_the_plural_form_by_the_number() -> None:
    one = t_in("en", "checkout_done", id=3, time="10:00", hours="1")
    many = t_in("en", "checkout_done", id=3, time="10:00", hours="1.5")
    assert "1 hour " in one and "1.5 hours" in many
    assert "1.5 小时" in t_in("zh", "checkout_done", id=3, time="10:00", hours="1.5")


def test_english_texts_use_english_punctuation() -> None:
    for key, (forms, _) in CATALOGS["en"].items():
        for form in forms:
            assert not re.search(r"[，。：；！？（）“”、【】]", form), f"{key}: {form!r}"


def test_lists_follow_the_language_spoken() -> None:
    assert listing(["甲", "乙"]) == "甲、乙"
    with speaking("en"):
        assert listing(["A", "B"]) == "A, B"
    with speaking("fr"):  # unknown: the default
        assert listing(["甲", "乙"]) == "甲、乙"


def test_telegram_language_decides_the_first_language() -> None:
    assert rules.language_of("en") == "en" and rules.language_of("en-GB") == "en"
    assert rules.language_of("zh-hans") == "zh" and rules.language_of(None) == "zh"
    assert rules.language_of("ru") == "zh"
    assert rules.parse_language(" EN ") == "en" and rules.parse_language("中文") == "zh"
    assert rules.parse_language("fr") is None


@pytest.mark.parametrize("language", list(LANGUAGES))
def test_command_menus_are_valid_for_telegram(language: str) -> None:
    menu = commands(language, committee=True)
    assert [c.command for c in menu] == list(MEMBER_COMMANDS + COMMITTEE_COMMANDS)
    for command in menu:
        assert re.fullmatch(r"[a-z0-9_]{1,32}", command.command)
        assert 3 <= len(command.description) <= 256


def test_paginate_keeps_every_line_and_each_page_within_the_limit() -> None:
    lines = [f"第{i}行 " + "字" * (i % 50) for i in range(1000)]
    pages = paginate(lambda p, n: f"名单（{p}/{n}）", lines)
    assert len(pages) > 1
    assert all(len(page) <= 4096 for page in pages)
    assert pages[0].startswith(f"名单（1/{len(pages)}）")
    body = [line for page in pages for line in page.split("\n")[1:]]
    assert body == lines


def test_paginate_clips_a_single_monster_line() -> None:
    pages = paginate(lambda p, n: "头", ["长" * 10000])
    assert len(pages) == 1 and len(pages[0]) <= 4096 and pages[0].endswith("…")
