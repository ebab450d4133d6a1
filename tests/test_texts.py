"""The catalog and message paging."""

from __future__ import annotations

import re

from bot.texts import COMMANDS_ADMIN, COMMANDS_MEMBER, ZH, paginate


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


def test_commands_are_valid_for_telegram() -> None:
    for name, description in COMMANDS_MEMBER + COMMANDS_ADMIN:
        assert re.fullmatch(r"[a-z0-9_]{1,32}", name)
        assert 1 <= len(description) <= 256


def test_catalog_placeholders_are_well_formed() -> None:
    for key, text in ZH.items():
        assert text.count("{") == text.count("}"), key
