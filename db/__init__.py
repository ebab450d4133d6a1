"""Database: models, sessions, migrations, and per-feature operations and pure rules (no
Telegram, no texts)."""
