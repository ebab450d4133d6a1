"""The dashboard's pages with a year of records: how long each takes on the server.

The year of bench.ledger_year (2,000 members in 10 units, 400 activities, about 200,000
attendance rows, 20,000 sign-ups). Each page is made as a request makes it (the person looked
up and their role read, the page's queries, the HTML, the chart drawn as SVG), for the
committee, a unit's lead and a member; the figure is the median and the slowest of several
runs after one warm-up. The goal (issue 25): at most 300 ms each.

.venv/bin/python -m bench.dashboard --db sqlite
.venv/bin/python -m bench.dashboard --db postgresql
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import functools
import statistics
import time
from collections.abc import Awaitable, Callable
from types import SimpleNamespace
from typing import Any

from sqlalchemy import func, select, update

from bench.harness import ADMIN_ID, database
from bench.ledger_year import FIRST_MEMBER, YEAR, ZONE, seed_year
from db.database import Database
from db.models import Attendance, Member
from handlers.dashboard import Dashboard
from handlers.webauth import WebAppUser
from render.texts import speaking

RUNS = 11
LEAD = FIRST_MEMBER + 1  # a member of 单位01, made its lead
MEMBER = FIRST_MEMBER + 2
PAGES: list[tuple[str, int, dict[str, str]]] = [
    ("overview, a quarter", ADMIN_ID, {"tab": "overview", "period": f"{YEAR}-Q3"}),
    ("overview, the year", ADMIN_ID, {"tab": "overview", "period": str(YEAR)}),
    ("activities, the year", ADMIN_ID, {"tab": "activities", "period": str(YEAR)}),
    ("an activity's roster", ADMIN_ID, {"tab": "activities", "id": "80"}),
    ("notices, the year", ADMIN_ID, {"tab": "notices", "period": str(YEAR)}),
    ("needs", ADMIN_ID, {"tab": "needs"}),
    ("ledger", ADMIN_ID, {"tab": "ledger"}),
    ("lead: overview, the year", LEAD, {"tab": "overview", "period": str(YEAR)}),
    ("lead: activities, the year", LEAD, {"tab": "activities", "period": str(YEAR)}),
    ("member: me", MEMBER, {"tab": "me"}),
]


async def measure(url: str) -> None:
    db = Database(url)
    async with db.session() as session:
        await session.execute(
            update(Member).where(Member.telegram_id == LEAD).values(lead_unit_id=1)
        )
        await session.commit()
    now = dt.datetime(YEAR, 12, 30, 12, tzinfo=ZONE).astimezone(dt.UTC)
    settings = SimpleNamespace(timezone=ZONE, admin_ids=frozenset({ADMIN_ID}), bot_token="1:x")
    services: Any = SimpleNamespace(settings=settings, db=db, now=lambda: now)
    dashboard = Dashboard(services, bot=None)  # type: ignore[arg-type]

    async def timed(label: str, run: Callable[[], Awaitable[int]]) -> None:
        size = await run()  # warm-up: first queries, the font, the catalogs
        times = []
        for _ in range(RUNS):
            began = time.perf_counter()
            await run()
            times.append(time.perf_counter() - began)
        print(
            f"  {label:<28} {statistics.median(times) * 1000:>6.0f} ms "
            f"{max(times) * 1000:>5.0f} ms {size / 1024:>6.0f} KB"
        )

    async def page(user_id: int, query: dict[str, str]) -> int:
        user = WebAppUser(user_id, "m", "zh", now)
        async with db.read_session() as session:
            viewer = await dashboard._viewer(session, user)
            with speaking("zh"):
                status, html = await dashboard._render(session, viewer, query)
        assert status == 200 and 'role="alert"' not in html, html[:500]
        return len(html)

    async def yardstick() -> int:
        """The machine's speed: the year's answers counted in plain SQL, without any join."""
        async with db.read_session() as session:
            rows = await session.execute(
                select(Attendance.activity_id, Attendance.status, func.count()).group_by(
                    Attendance.activity_id, Attendance.status
                )
            )
            return len(rows.all())

    print(f"  {'page':<28} {'median':>8} {'slowest':>8} {'HTML':>8}")
    await timed("yardstick: a bare count", yardstick)
    for label, user_id, query in PAGES:
        await timed(label, functools.partial(page, user_id, query))
    await db.dispose()


async def run(kind: str) -> None:
    print(f"dashboard db={kind}")
    async with database(kind) as url:
        await seed_year(url)
        await measure(url)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    args = parser.parse_args()
    asyncio.run(run(args.db))


if __name__ == "__main__":
    main()
