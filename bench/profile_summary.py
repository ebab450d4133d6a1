"""Where the bot's CPU went: py-spy's collapsed stacks (`checkin_burst --profile`) summed into
the parts of the press path, as a share of the busy samples.

.venv/bin/python -m bench.profile_summary /tmp/press-sqlite-签到.txt

A sample is put in the first part (in the order below) that any frame of its stack belongs
to, so a statement run by `check_in` counts as check-in's, not as SQLAlchemy's in general.
Samples of a thread waiting (the event loop, the SQLite thread's queue) are idle.
"""

from __future__ import annotations

import argparse
from collections import Counter

# Waiting: asyncio's select, the SQLite thread's queue, and uvloop's loop (its own C code, which
# py-spy cannot see into, shows as the Python frame that started it).
IDLE = (
    "EpollSelector.select",
    "_connection_worker_thread (aiosqlite/core.py:59)",
    "Application.__run (",
)

# (part, fragments of a frame that put a sample there), most specific first.
PARTS: list[tuple[str, tuple[str, ...]]] = [
    ("logging", ("logging/__init__.py",)),
    ("metrics (prometheus)", ("prometheus_client/",)),
    ("card refresh (scheduled edits)", ("scheduler/cards.py", "activity_cards.py")),
    ("caller: look-up and record", ("touch_member", "_record_caller")),
    (
        "press: statements (activity, insert)",
        ("db/attendance.py", "db/notices.py", "db/volunteer.py", "db/musters.py"),
    ),
    ("language, flood guard, refusals", ("_language", "_flooding", "refuse_outsiders")),
    ("commit", ("AsyncSession.commit", "AsyncSessionTransaction.commit")),
    (
        "session set-up and close",
        ("Database.session", "AsyncSession.close", "AsyncSession.__aexit__", "async_sessionmaker"),
    ),
    (
        "answer (answerCallbackQuery)",
        ("answer_callback_query", "CallbackQuery.answer", "handlers/delivery.py"),
    ),
    ("rendering the toast", ("render/",)),
    ("getUpdates (fetch and parse)", ("get_updates", "Update.de_json", "de_list")),
    ("the rest of handling an update (ordering, runner)", ("scheduler/ordering.py",)),
    ("handler dispatch (PTB)", ("Application.process_update", "handle_update", "check_update")),
    ("database driver thread", ("aiosqlite/core.py", "asyncpg/")),
    ("other HTTP (aiohttp, httpx)", ("aiohttp/", "httpx/", "httpcore/")),
]


# A thread's own stack starts here; any other root is a greenlet in which SQLAlchemy runs an
# awaited statement (its frames do not reach back to the handler that awaits it).
THREAD_ROOTS = ("_run_module_as_main", "Thread._bootstrap")


IDLE_PART = "idle (waiting, or uvloop's own C code)"


def part_of(frames: list[str]) -> str:
    if any(frames[-1].startswith(idle) for idle in IDLE):
        return IDLE_PART
    if not frames[0].startswith(THREAD_ROOTS):
        return "statements: SQLAlchemy in its greenlet (ORM, compile, driver call)"
    for part, fragments in PARTS:
        if any(fragment in frame for frame in frames for fragment in fragments):
            return part
    return "other (event loop, asyncio, SQLAlchemy outside a part)"


def summarise(path: str) -> Counter[str]:
    parts: Counter[str] = Counter()
    with open(path, encoding="utf-8") as lines:
        for line in lines:
            stack, _, count = line.rstrip("\n").rpartition(" ")
            if stack:
                parts[part_of(stack.split(";"))] += int(count)
    return parts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("profile", nargs="+", help="py-spy --format raw output")
    args = parser.parse_args()
    for path in args.profile:
        parts = summarise(path)
        busy = sum(n for part, n in parts.items() if part != IDLE_PART)
        print(f"{path}: {busy} busy samples")
        for part, n in parts.most_common():
            if part != IDLE_PART:
                print(f"  {n / busy * 100:5.1f} %  {part}")


if __name__ == "__main__":
    main()
