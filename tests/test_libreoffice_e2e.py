"""The files the committee receives open in LibreOffice (Debian's `libreoffice-calc-nogui` and
`libreoffice-writer-nogui`, headless): the ledger's sheets, the study plan and the work plan's
review among them, and the year-end summary draft, each converted by LibreOffice itself and
read back. Where LibreOffice is not installed these tests skip, saying so (CI installs it)."""

from __future__ import annotations

import asyncio
import csv
import re
import shutil
import tempfile
from pathlib import Path

import pytest

from tests.harness import BotHarness, clock
from tests.steps import Quarter

pytestmark = pytest.mark.clock("2026-10-09 10:00")

SOFFICE: str | None = shutil.which("soffice") or shutil.which("libreoffice")
# Every sheet to its own file (the last field, -1), UTF-8 (76), comma-separated (44), quoted.
ALL_SHEETS_CSV = "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false,-1"


async def convert(path: Path, target: str) -> Path:
    """`path` converted by LibreOffice, headless, into a folder of its own."""
    if SOFFICE is None:
        pytest.skip("LibreOffice is not installed (apt-get install libreoffice-calc-nogui "
                    "libreoffice-writer-nogui)")  # fmt: skip
    out = Path(tempfile.mkdtemp(prefix="lo-out-"))
    profile = Path(tempfile.mkdtemp(prefix="lo-profile-"))
    process = await asyncio.create_subprocess_exec(
        SOFFICE,
        f"-env:UserInstallation=file://{profile}",
        "--headless",
        "--norestore",
        "--convert-to",
        target,
        "--outdir",
        str(out),
        str(path),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    said, _ = await asyncio.wait_for(process.communicate(), 180)
    assert process.returncode == 0, said.decode(errors="replace")
    shutil.rmtree(profile, ignore_errors=True)
    return out


async def received(bot: BotHarness, command: str, prefix: str) -> Path:
    """The file the bot sends privately for `command`, saved under its own name."""
    admin = bot.admin
    since = len(bot.tg.bot_messages(admin.id))
    admin.say(command)
    message = await bot.tg.message_in(admin.id, lambda m: m.get("document"), 60, "a file", since)
    name = str(message["document"]["file_name"])
    assert name.startswith(prefix), name
    path = Path(tempfile.mkdtemp(prefix="lo-in-")) / name
    path.write_bytes(bot.tg.sent_file(message))
    return path


def sheet(folder: Path, name: str) -> list[list[str]]:
    (found,) = [p for p in folder.iterdir() if p.stem.endswith("-" + name)]
    with found.open(encoding="utf-8", newline="") as handle:
        return list(csv.reader(handle))


async def test_the_ledger_and_the_summary_open_in_libreoffice(quarter: Quarter) -> None:
    bot, admin = quarter.bot, quarter.bot.admin
    added = await admin.ask_private("/plan add 2026-Q4 学习贯彻二十大精神 单位=康复中心")
    item = int(re.search(r"#(\d+)", added)[1])  # type: ignore[index]
    await admin.ask_private(f"/event edit {quarter.future} plan={item}")
    reply = await admin.ask_private("/task add 2026 建立评估问效机制 负责=青工委 编号=（九）")
    task = int(re.search(r"#(\d+)", reply)[1])  # type: ignore[index]
    await admin.ask_private("/tasks")
    clock(bot).set_local("2026-12-18 09:00")
    message = bot.tg.bot_messages(admin.id)[-1]
    since = len(bot.tg.texts(admin.id))
    await admin.toast(admin.press_data(message, f"trv:{task}:2026Q4:p"))
    await admin.reply_in(admin.id, since)
    since = len(bot.tg.texts(admin.id))
    await admin.toast(admin.press_data(message, f"trv:{task}:2026Q4:n"))
    await admin.reply_in(admin.id, since)
    assert "已保存" in await admin.ask_private("机制草案已提交青工委会议讨论。")

    ledger = await received(bot, "/export 2026-Q4", "青工委台账_2026-Q4")
    sheets = await convert(ledger, ALL_SHEETS_CSV)
    plan = sheet(sheets, "学习计划")
    assert plan[0][:3] == ["编号", "季度", "主题"]
    assert plan[1][:3] == [str(item), "2026-Q4", "学习贯彻二十大精神"]
    assert "康复中心：已安排" in plan[1][6]
    review = sheet(sheets, "工作要点落实")
    assert review[0][:6] == ["编号", "季度", "工作要点", "负责", "落实情况", "依据"]
    assert review[1][:7] == [
        str(task),
        "2026-Q4",
        "（九）建立评估问效机制",
        "青工委",
        "推进中",
        "负责人评估",
        "机制草案已提交青工委会议讨论。",
    ]
    assert sheet(sheets, "活动")[0][0] == "活动编号"

    draft = await received(bot, "/summary 2026", "青工委2026年度工作总结")
    text = next((await convert(draft, "txt:Text")).iterdir()).read_text(encoding="utf-8-sig")
    for heading in ("一、基本情况", "二、主要工作和成效", "三、存在的不足", "四、下一步打算"):
        assert heading in text
    assert "（九）建立评估问效机制" in text and "机制草案已提交青工委会议讨论。" in text
