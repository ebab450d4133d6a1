"""青工委助手: composition root (settings, texts, building the Application)."""

import os

# Opt in to python-telegram-bot's future behaviour: durations (e.g. RetryAfter.retry_after)
# are datetime.timedelta. Without it every access warns, and the next major changes it anyway.
os.environ.setdefault("PTB_TIMEDELTA", "1")
