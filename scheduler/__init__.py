"""The bot's machinery that runs on its own: settings and the shared services, the reminder
engine (APScheduler jobs rebuilt from the database), the outbox, card edits, reports built
aside, Telegram's rate limits, per-person ordering, leadership and the cluster."""

import os

# Opt in to python-telegram-bot's future behaviour: durations (e.g. RetryAfter.retry_after)
# are datetime.timedelta. Without it every access warns, and the next major changes it anyway.
# Set here, the lowest layer that imports telegram, before anything imports it.
os.environ.setdefault("PTB_TIMEDELTA", "1")
