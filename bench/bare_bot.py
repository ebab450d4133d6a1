"""The yardstick: a bare python-telegram-bot application that only answers button presses.

No database, no ordering, no rendering: what the library and the local Bot API server cost on
this machine. `bench/press_burst.py` runs it side by side with the real bot in the same run.

    BOT_TOKEN=… TELEGRAM_API_URL=http://127.0.0.1:PORT python -m bench.bare_bot
"""

from __future__ import annotations

import os

from telegram import Update
from telegram.ext import ApplicationBuilder, CallbackQueryHandler, ContextTypes

# As many updates at once as the real bot runs (bot.app.CONCURRENT_UPDATES).
CONCURRENT_UPDATES = 64


async def answer(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.callback_query is not None
    await update.callback_query.answer("签到成功")


def main() -> None:
    url = os.environ["TELEGRAM_API_URL"]
    application = (
        ApplicationBuilder()
        .token(os.environ["BOT_TOKEN"])
        .base_url(f"{url}/bot")
        .base_file_url(f"{url}/file/bot")
        .concurrent_updates(CONCURRENT_UPDATES)
        .get_updates_connection_pool_size(2)
        .build()
    )
    application.add_handler(CallbackQueryHandler(answer))
    application.run_polling(allowed_updates=[Update.CALLBACK_QUERY])


if __name__ == "__main__":
    main()
