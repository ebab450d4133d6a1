"""Database: models, engine and sessions, migrations and per-feature operations (no Telegram)."""
