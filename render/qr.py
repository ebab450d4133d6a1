"""The check-in QR picture (segno, PNG in memory) and the caption beneath it."""

from __future__ import annotations

import io
from zoneinfo import ZoneInfo

from db.qr import Frame
from render.texts import t

# 16 pixels a module (about 720 px for these links): sharp on a projector, and after
# Telegram's recompression. A 4-module quiet zone, as the standard asks.
SCALE = 16
BORDER = 4


def deep_link(bot_username: str, payload: str) -> str:
    return f"https://t.me/{bot_username}?start={payload}"


def png(url: str) -> bytes:
    """The QR code of `url` as a PNG (error correction M: readable off a screen at an angle)."""
    import segno  # loaded with the first QR code drawn: the bot starts without it

    out = io.BytesIO()
    segno.make(url, error="m", micro=False).save(out, kind="png", scale=SCALE, border=BORDER)
    return out.getvalue()


def caption(frame: Frame, zone: ZoneInfo, rotate_seconds: int) -> str:
    return t(
        "qr_caption",
        id=frame.activity_id,
        title=frame.title,
        code=frame.code,
        until=frame.valid_until.astimezone(zone).strftime("%H:%M:%S"),
        seconds=rotate_seconds,
    )


def picture(bot_username: str, frame: Frame) -> bytes:
    return png(deep_link(bot_username, frame.payload))
