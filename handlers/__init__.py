"""Telegram glue, one module per feature: parse the update, call a db operation, render from
the catalogs. Conversations that take several messages go through one router."""
