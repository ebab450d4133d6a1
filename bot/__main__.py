"""`python -m bot`: read settings, configure logging, run the bot (long polling)."""

from __future__ import annotations

import sys

from dotenv import find_dotenv, load_dotenv

from bot.settings import PROJECT_ROOT, Settings, SettingsError


def main() -> int:
    load_dotenv(find_dotenv(usecwd=True) or PROJECT_ROOT / ".env")
    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        print(f"配置错误 / configuration error: {exc}", file=sys.stderr)
        return 2

    # Imported late so a configuration error is reported without loading the whole bot.
    from bot.app import ALLOWED_UPDATES, build_application
    from bot.logs import configure_logging

    configure_logging(settings.log_level, settings.bot_token)
    application = build_application(settings)
    application.run_polling(allowed_updates=ALLOWED_UPDATES)
    return 0


if __name__ == "__main__":
    sys.exit(main())
