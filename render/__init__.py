"""Presentation: the texts catalog and everything made from data for people to read — card and
report texts, formatting, charts, the ledger, certificates, QR images, roster files read in.
Pure functions of data: no Telegram, no sending."""
