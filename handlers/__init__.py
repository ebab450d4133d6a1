"""Telegram glue, one module per feature: parse the update, call a db operation, render."""
