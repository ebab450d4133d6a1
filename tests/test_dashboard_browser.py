"""The dashboard in a real headless Chromium (Debian's, driven by Playwright), opened the way
Telegram opens a Mini App: the page's URL fragment carries the signed initData
(`tgWebAppData`) and the theme. telegram.org is blocked, as on a network without it: the page
must work without Telegram's script. Screenshots of each page go to tests.browser's folder.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING
from urllib.parse import quote

import pytest
from sqlalchemy import select

from db.models import Need
from tests.browser import launch, screenshot_dir
from tests.harness import ADMIN_ID, BotHarness
from tests.steps import Quarter, init_data, webapp_base

if TYPE_CHECKING:
    from playwright.async_api import Browser, Page

pytestmark = [
    pytest.mark.settings(webapp_url="https://bot.example.org/app/", webapp_listen=("127.0.0.1", 0)),
    pytest.mark.clock("2026-10-09 10:00"),
]

DARK = {"bg_color": "#17212b", "text_color": "#f5f5f5", "button_color": "#5288c1"}


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with launch() as started:
        yield started


async def opened(
    browser: Browser, bot: BotHarness, init: str, theme: dict[str, str] | None = None
) -> Page:
    """The dashboard as Telegram opens it, at a phone's width, without telegram.org."""
    page = await browser.new_page(viewport={"width": 360, "height": 780}, locale="zh-CN")
    await page.route("https://telegram.org/**", lambda route: route.abort())
    fragment = f"tgWebAppData={quote(init)}&tgWebAppVersion=8.0&tgWebAppPlatform=android"
    if theme is not None:
        fragment += "&tgWebAppThemeParams=" + quote(json.dumps(theme))
    await page.goto(webapp_base(bot) + "#" + fragment)
    return page


async def shot(page: Page, name: str) -> None:
    await page.screenshot(path=screenshot_dir() / f"dashboard-{name}.png", full_page=True)


async def tab(page: Page, name: str) -> None:
    await page.get_by_role("navigation").get_by_role("link", name=name, exact=True).click()
    await page.locator("a[aria-current=page]", has_text=name).wait_for()


async def test_the_committee_reads_the_quarter_and_acts_in_chromium(
    quarter: Quarter, browser: Browser
) -> None:
    from playwright.async_api import expect

    bot = quarter.bot
    await quarter.a.ask_private("/need 住房 单位宿舍报修一直没人处理 匿名")
    page = await opened(browser, bot, init_data(bot, ADMIN_ID))
    # 概览: the quarter at a glance, with its chart and tables.
    await expect(page.get_by_role("heading", level=1)).to_contain_text("2026年第4季度")
    nav = page.get_by_role("navigation")
    for name in ("概览", "活动", "通知", "诉求", "我的", "台账"):
        await expect(nav.get_by_role("link", name=name, exact=True)).to_be_visible()
    units = page.get_by_role("table").first
    await expect(units).to_contain_text("康复中心")
    await expect(page.locator("figure svg")).to_be_visible()
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= 360, f"the page scrolls sideways at 360 px: {width}"
    await shot(page, "committee-overview")
    # The year instead of the quarter.
    await page.get_by_label("期间").select_option("2026")
    await page.get_by_role("button", name="查看").click()
    await expect(page.get_by_role("heading", level=1)).to_contain_text("2026年度")

    # 活动 → one activity's roster.
    await tab(page, "活动")
    await shot(page, "committee-activities")
    await page.get_by_role("link", name=f"#{quarter.study} 四季度学习").click()
    roster = page.get_by_role("table")
    await expect(roster).to_contain_text("办000")
    await expect(roster).to_contain_text("出差")
    await expect(roster).to_contain_text("未登记")
    await shot(page, "committee-roster")

    # 诉求: the anonymous need, moved on from the page.
    await tab(page, "诉求")
    await expect(page.get_by_role("heading", level=2).first).to_contain_text("待受理（1）")
    await shot(page, "committee-needs")
    await page.get_by_role("link", name="住房").first.click()
    await expect(page.locator("main")).to_contain_text("匿名")
    await expect(page.locator("main")).not_to_contain_text("办000")
    await page.get_by_role("button", name="设为“办理中”").click()
    await expect(page.get_by_role("status")).to_contain_text("办理中")
    async with bot.services.db.session() as session:
        need = await session.scalar(select(Need))
        assert need is not None and need.status == "in_progress"
    await bot.tg.wait_for(
        lambda: any("办理中" in x for x in bot.tg.texts(quarter.a.id)), 10, "the sender told"
    )

    # 通知 → who has not acknowledged → chased.
    await tab(page, "通知")
    await shot(page, "committee-notices")
    await page.get_by_role("link", name=f"#{quarter.notice}", exact=True).click()
    await expect(page.get_by_role("table")).to_contain_text("=1+1")
    await shot(page, "committee-notice")
    before = len(bot.tg.texts(quarter.b.id))
    await page.get_by_role("button", name="私信提醒未确认的人（3 人）").click()
    await expect(page.get_by_role("status")).to_contain_text(f"通知 #{quarter.notice}")
    await bot.tg.wait_for(lambda: len(bot.tg.texts(quarter.b.id)) > before, 10, "B reminded")

    # 台账: the ledger, sent privately.
    await tab(page, "台账")
    await shot(page, "committee-ledger")
    await page.get_by_role("button", name="导出 2026年第4季度 台账").click()
    await expect(page.get_by_role("status")).to_contain_text("台账正在生成")
    document = await bot.tg.message_in(ADMIN_ID, lambda m: m.get("document"), 60, "ledger", 0)
    assert document["document"]["file_name"].endswith(".xlsx")


async def test_a_lead_a_member_and_a_forger_in_chromium(quarter: Quarter, browser: Browser) -> None:
    from playwright.async_api import expect

    bot = quarter.bot
    await bot.admin.ask_private("/lead 康复中心 康000")
    lead = await opened(browser, bot, init_data(bot, quarter.c.id))
    await expect(lead.get_by_role("heading", level=1)).to_contain_text("康复中心")
    links = lead.get_by_role("navigation").get_by_role("link")
    await expect(links).to_have_text(["概览", "活动", "通知", "工作要点", "我的", "台账"])
    await expect(lead.locator("main")).not_to_contain_text("办公室")
    await shot(lead, "lead-overview")

    member = await opened(browser, bot, init_data(bot, quarter.a.id), theme=DARK)
    await expect(member.get_by_role("heading", level=1)).to_contain_text("我的：办000")
    await expect(member.get_by_role("navigation").get_by_role("link")).to_have_text(["我的"])
    await expect(member.locator("main")).not_to_contain_text("=1+1")
    background = await member.evaluate("getComputedStyle(document.body).backgroundColor")
    assert background == "rgb(23, 33, 43)", background  # Telegram's dark theme, from the URL
    await shot(member, "member-me-dark")

    forged = init_data(bot, ADMIN_ID, token="123456:forged-token-forged-token-forged")
    forger = await opened(browser, bot, forged)
    await expect(forger.get_by_role("alert")).to_contain_text("Telegram")
    await expect(forger.locator("body")).not_to_contain_text("康复中心")
    await shot(forger, "forger")
