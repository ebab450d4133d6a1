"""Several `python -m bot` instances in webhook mode on one PostgreSQL, behind a load balancer.

The local Bot API server posts updates round-robin over the instances, as a load balancer in
front of them would, and enforces Telegram's limits; the instances are real processes, so
`kill -9` is real too.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import re
import socket
import time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import pytest
from sqlalchemy import func, select

from db.database import Database
from db.models import Activity, Attendance, OneOffReminder, WebhookUpdate, utcnow
from handlers.webauth import sign
from tests.harness import ADMIN_ID, GROUP_ID, TOKEN, WEBHOOK_SECRET
from tests.processes import bot_env, seed, spawn, stop
from tests.tgserver import LIMITED, Callback, FakeTelegram, TgUser

pytestmark = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)

SECRET = WEBHOOK_SECRET
HOOK_URL = "https://bot.example.test/telegram/hook"
PATH = "/telegram/hook"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Instance:
    def __init__(self, tg: FakeTelegram, url: str, folder: Path, number: int) -> None:
        self.tg, self.url = tg, url
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = folder / f"bot{number}.log"
        # The first instance logs everything: the secret must stay out even at DEBUG.
        self.level = "DEBUG" if number == 0 else "INFO"
        self.process: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        env = bot_env(
            TOKEN,
            self.tg.url,
            self.url,
            ADMIN_IDS=str(ADMIN_ID),
            LOG_LEVEL=self.level,
            WEBHOOK_URL=HOOK_URL,
            WEBHOOK_SECRET=SECRET,
            WEBHOOK_LISTEN=f"127.0.0.1:{self.port}",
            WEBAPP_URL="https://bot.example.test/app/",
        )
        self.process = await spawn(env, self.log)

    async def health(self) -> dict[str, Any] | None:
        try:
            async with (
                aiohttp.ClientSession() as client,
                client.get(self.base + "/healthz", timeout=aiohttp.ClientTimeout(total=3)) as r,
            ):
                return dict(await r.json()) if r.status == 200 else None
        except (aiohttp.ClientError, TimeoutError):
            return None

    async def post(self, body: Any, secret: str | None) -> int:
        headers = {} if secret is None else {"X-Telegram-Bot-Api-Secret-Token": secret}
        async with (
            aiohttp.ClientSession() as client,
            client.post(self.base + PATH, json=body, headers=headers) as response,
        ):
            return response.status

    async def stop(self, kill: bool = False) -> None:
        if self.process is not None:
            await stop(self.process, kill=kill)

    def text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


class Cluster:
    def __init__(self, tg: FakeTelegram, url: str, folder: Path, size: int) -> None:
        self.tg = tg
        self.instances = [Instance(tg, url, folder, i) for i in range(size)]

    async def start(self) -> None:
        for instance in self.instances:
            await instance.start()
        for instance in self.instances:
            await wait_until(instance.health, 60, f"instance {instance.port}")
        self.tg.webhook_targets = [i.base for i in self.instances]
        await self.tg.wait_for(lambda: self.tg.webhook is not None, 30, "setWebhook")

    async def leader(self, among: list[Instance] | None = None) -> Instance:
        async def find() -> Instance | None:
            for instance in among or self.instances:
                health = await instance.health()
                if health is not None and health["role"] == "leader":
                    return instance
            return None

        found: Instance = await wait_until(find, 40, "a leader")
        return found

    async def kill(self, instance: Instance) -> None:
        """kill -9, and the load balancer stops sending it anything."""
        await instance.stop(kill=True)
        self.tg.webhook_targets = [i.base for i in self.instances if i is not instance]

    async def stop(self) -> None:
        for instance in self.instances:
            await instance.stop()

    def logs(self) -> str:
        return "\n".join(i.text() for i in self.instances)


async def wait_until(probe: Any, timeout: float, what: str) -> Any:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        value = await probe()
        if value:
            return value
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        await asyncio.sleep(0.2)


async def count(db: Database, model: Any) -> int:
    async with db.session() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


def card_of(tg: FakeTelegram, title: str) -> dict[str, Any] | None:
    return next((m for m in tg.bot_messages(GROUP_ID) if title in str(m.get("text"))), None)


def present_on(tg: FakeTelegram, title: str) -> int:
    card = card_of(tg, title)
    match = re.search(r"已签到 (\d+)", str(card.get("text")) if card else "")
    return int(match[1]) if match else -1


def max_group_calls_per_minute(tg: FakeTelegram, chat_id: int) -> int:
    times = sorted(
        c.at for c in tg.calls if c.method in LIMITED and c.params.get("chat_id") == chat_id
    )
    return max((sum(1 for u in times if t <= u < t + 60) for t in times), default=0)


async def new_event(tg: FakeTelegram, admin: TgUser, title: str) -> dict[str, Any]:
    starts = dt.datetime.now(ZoneInfo("Asia/Shanghai")) + dt.timedelta(minutes=10)
    created = await admin.ask_private(f"/newevent 学习 {starts:%Y-%m-%d %H:%M} {title}", 30)
    assert "已创建活动" in created, created
    card: dict[str, Any] = await tg.wait_for(lambda: card_of(tg, title), 30, "the card")
    return card


@pytest.fixture
async def world(database_url: str, tmp_path: Path) -> Any:
    people = 120
    db = await seed(database_url, people)
    tg = FakeTelegram(TOKEN)
    await tg.start()
    tg.add_group(GROUP_ID)
    tg.admins[GROUP_ID].add(ADMIN_ID)
    admin = tg.add_user(ADMIN_ID, "管理员")
    members = [tg.add_user(80_000 + i, f"m{i}") for i in range(people)]
    tg.started.update(m.id for m in members)
    cluster = Cluster(tg, database_url, tmp_path, 3)
    try:
        yield tg, db, admin, members, cluster
    finally:
        await cluster.stop()
        await tg.stop()
        await db.dispose()
        logs = cluster.logs()
        assert "Traceback" not in logs, logs[-5000:]
        assert TOKEN not in logs and SECRET not in logs


World = tuple[FakeTelegram, Database, TgUser, list[TgUser], Cluster]


async def test_forged_or_missing_secrets_get_403_and_change_nothing(world: World) -> None:
    tg, _db, admin, _members, cluster = world
    await cluster.start()
    first = cluster.instances[0]
    targets, tg.webhook_targets = tg.webhook_targets, []
    tg.user_message(ADMIN_ID, ADMIN_ID, "/start")
    update = tg.updates.pop()  # posted by hand below, not by the server
    tg.webhook_targets = targets
    for secret in (None, "", "wrong", SECRET + "x"):
        assert await first.post(update, secret) == 403
    await asyncio.sleep(1)
    assert not tg.texts(ADMIN_ID)
    assert await first.post({"update_id": "x"}, SECRET) == 400
    assert await first.post(update, SECRET) == 200
    assert "青工委助手" in await admin.reply_in(ADMIN_ID, 0, 20)
    async with aiohttp.ClientSession() as client, client.get(first.base + "/metrics") as r:
        body = await r.text()
    assert 'qgw_updates_total{outcome="handled",type="message"}' in body
    assert "qgw_is_leader" in body and "qgw_outbox_pending" in body
    # The dashboard is on the webhook's listener: its shell for anyone, its pages only with
    # initData signed by Telegram (here: signed with the token, as Telegram does).
    user = json.dumps({"id": ADMIN_ID, "first_name": "A"})
    signed = sign({"user": user, "auth_date": str(int(time.time()))}, TOKEN)
    async with aiohttp.ClientSession() as client:
        async with client.get(first.base + "/app/") as r:
            assert r.status == 200 and "app.js" in await r.text()
        async with client.get(first.base + "/app/api/page") as r:
            assert r.status == 401
        headers = {"Authorization": f"tma {signed}"}
        async with client.get(first.base + "/app/api/page?tab=me", headers=headers) as r:
            assert r.status == 200 and "<nav" in await r.text()
    # Registered once, by the leader, with the secret and without dropping anything.
    assert tg.count_calls("setWebhook") == 1
    call = next(c for c in tg.calls if c.method == "setWebhook")
    assert call.params["secret_token"] == SECRET
    assert call.params.get("drop_pending_updates") in (None, False, "false")


async def test_an_update_posted_to_two_instances_is_handled_once(world: World) -> None:
    tg, db, admin, members, cluster = world
    await cluster.start()
    tg.webhook_copies = 2  # every update reaches two instances
    await new_event(tg, admin, "双投活动")
    await asyncio.sleep(2)
    assert await count(db, Activity) == 1
    assert sum("已创建活动" in text for text in tg.texts(ADMIN_ID)) == 1
    assert len([m for m in tg.bot_messages(GROUP_ID) if "双投活动" in str(m.get("text"))]) == 1
    # A button press delivered twice: one answer, one check-in.
    card = card_of(tg, "双投活动")
    assert card is not None
    press = members[0].press(card, "签到")
    await tg.wait_for(lambda: press.answered.done(), 20, "the answer")
    assert "签到成功" in (press.answered.result()["text"] or "")
    await asyncio.sleep(2)
    assert tg.count_calls("answerCallbackQuery", callback_query_id=press.id) == 1
    assert await count(db, Attendance) == 1
    posted = {update_id for update_id, _target, _status in tg.webhook_posts}
    assert all(
        sum(1 for u, _t, _s in tg.webhook_posts if u == update_id) == 2 for update_id in posted
    )


async def burst(members: list[TgUser], card: dict[str, Any], gap: float) -> list[Callback]:
    presses = []
    for member in members:
        presses.append(member.press(card, "签到"))
        await asyncio.sleep(gap)
    return presses


async def test_a_burst_on_one_card_is_exact_within_the_group_budget(world: World) -> None:
    tg, db, admin, members, cluster = world
    await cluster.start()
    card = await new_event(tg, admin, "集群签到")
    presses = await burst(members, card, 0.01)
    await tg.wait_for(lambda: all(c.answered.done() for c in presses), 60, "every answer")
    assert all("签到成功" in (c.answered.result()["text"] or "") for c in presses)
    assert await count(db, Attendance) == len(members)
    await tg.wait_for(lambda: present_on(tg, "集群签到") == len(members), 60, "the exact card")
    assert max_group_calls_per_minute(tg, GROUP_ID) <= 20
    assert not tg.errors(429)
    # The load balancer spread the presses over all three.
    assert len({target for _u, target, status in tg.webhook_posts if status == 200}) == 3


async def test_kill_9_mid_burst_loses_nothing(world: World) -> None:
    tg, db, admin, members, cluster = world
    await cluster.start()
    card = await new_event(tg, admin, "断电签到")
    leader = await cluster.leader()
    victim = next(i for i in cluster.instances if i is not leader)
    pressing = asyncio.create_task(burst(members, card, 0.02))
    await asyncio.sleep(0.8)
    await cluster.kill(victim)  # mid-burst; what it had not answered is posted to the others
    presses = await pressing
    await tg.wait_for(lambda: all(c.answered.done() for c in presses), 60, "every answer")
    assert await count(db, Attendance) == len(members)
    await tg.wait_for(lambda: present_on(tg, "断电签到") == len(members), 60, "the exact card")
    assert not tg.errors(429)
    # Whatever the victim had stored and not finished was taken over (when it had any left:
    # under load it may have finished all it took before the kill).
    unfinished = (
        select(func.count()).select_from(WebhookUpdate).where(WebhookUpdate.done_at.is_(None))
    )
    for _ in range(30):  # instances mark what they finished once a second
        async with db.session() as session:
            if not await session.scalar(unfinished):
                break
        await asyncio.sleep(0.5)
    else:
        raise AssertionError("stored updates left unfinished after the kill")


async def test_when_the_leader_dies_another_takes_over_reminders_and_outbox(
    world: World,
) -> None:
    tg, db, admin, _members, cluster = world
    async with db.session() as session:
        session.add(
            OneOffReminder(
                at=utcnow() + dt.timedelta(seconds=25), text="接任后的提醒", created_by=1
            )
        )
        await session.commit()
    await cluster.start()
    leader = await cluster.leader()
    await cluster.kill(leader)
    killed_at = asyncio.get_running_loop().time()
    others = [i for i in cluster.instances if i is not leader]
    await cluster.leader(others)
    assert asyncio.get_running_loop().time() - killed_at < 30
    # The outbox runs on the new leader: a notice reaches the group.
    await admin.ask_private("/notice 接任后的通知", 30)
    await tg.wait_for(
        lambda: any("接任后的通知" in text for text in tg.texts(GROUP_ID)), 30, "the notice"
    )
    # And the scheduler: the reminder due after the take-over is sent, once.
    await tg.wait_for(
        lambda: any("接任后的提醒" in text for text in tg.texts(GROUP_ID)), 60, "the reminder"
    )
    await asyncio.sleep(2)
    assert sum("接任后的提醒" in text for text in tg.texts(GROUP_ID)) == 1


async def test_conversations_go_on_whichever_instance_takes_the_next_step(world: World) -> None:
    """A guided /newevent and three 请假 reasons, each message to the next instance in turn
    (round robin): their state is in the database, so every step lands."""
    tg, db, admin, members, cluster = world
    await cluster.start()
    await admin.ask_private("/start", 30)
    await admin.ask_private("/newevent", 30)
    since = len(tg.texts(ADMIN_ID))
    await admin.toast(admin.press(tg.bot_messages(ADMIN_ID)[-1], "理论学习"), 30)
    await admin.reply_in(ADMIN_ID, since, 30)
    starts = dt.datetime.now(ZoneInfo("Asia/Shanghai")) + dt.timedelta(days=2)
    assert "标题" in await admin.ask_private(f"{starts:%Y-%m-%d %H:%M}", 30)
    assert "地点" in await admin.ask_private("跨实例的引导创建", 30)
    assert "可选设置" in await admin.ask_private("三楼会议室", 30)
    since = len(tg.texts(ADMIN_ID))
    await admin.toast(admin.press(tg.bot_messages(ADMIN_ID)[-1], "下一步"), 30)
    assert "请确认" in await admin.reply_in(ADMIN_ID, since, 30)
    await admin.toast(admin.press(tg.bot_messages(ADMIN_ID)[-1], "确认创建"), 30)
    card: dict[str, Any] = await tg.wait_for(
        lambda: card_of(tg, "跨实例的引导创建"), 30, "the guided activity's card"
    )
    activity_id = int(re.search(r"#(\d+)", card["text"])[1])  # type: ignore[index]
    for person, reason in zip(members[:3], ("出差", "培训", "病假"), strict=True):
        asked = await person.ask_private(f"/start leave_{activity_id}", 30)
        assert "请假原因" in asked, asked
        assert "已请假" in await person.ask_private(reason, 30)
    async with db.session() as session:
        reasons = set(
            await session.scalars(
                select(Attendance.reason).where(
                    Attendance.activity_id == activity_id, Attendance.status == "leave"
                )
            )
        )
    assert reasons == {"出差", "培训", "病假"}
    # Every instance took part: the messages went round.
    assert len({target for _, target, status in tg.webhook_posts if status == 200}) == 3
