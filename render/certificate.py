"""The volunteer-hours certificate (志愿服务证明): what it shows and its file's name. Drawn as
a PDF by render.certificate_pdf, which loads fpdf2 (some 50 MB): the bot loads it on the first
certificate, not at start."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass

from db.certificates import Entry
from render.texts import t

_UNSAFE_IN_FILE_NAMES = re.compile(r'[\\/:*?"<>|\x00-\x1f\x7f]+')


@dataclass(frozen=True)
class Document:
    """Everything a certificate shows."""

    name: str
    unit: str
    year: int
    entries: Sequence[Entry]
    total: float
    issued: dt.date  # in the configured time zone
    code: str  # grouped, e.g. 7KQM-3XPD-H9TF
    bot_username: str


def file_name(name: str, year: int) -> str:
    """`志愿服务证明_<姓名>_<年>.pdf`, with nothing a file system would refuse."""
    return t("cert_file", name=_UNSAFE_IN_FILE_NAMES.sub("_", name).strip() or "_", year=year)
