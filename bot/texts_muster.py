"""Texts of one feature, merged into bot.texts.ZH (keys must not clash)."""

ZH: dict[str, str] = {}
