"""Pure rules: no Telegram, no database. Plain functions that are easy to test."""

from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from enum import Enum
from zoneinfo import ZoneInfo

from db.errors import Refusal

KIND_ALIASES = {
    "study": "study",
    "学习": "study",
    "理论学习": "study",
    "meeting": "meeting",
    "会议": "meeting",
    "青工委会议": "meeting",
    "unity": "unity",
    "民族团结": "unity",
    "民族团结教育": "unity",
    "volunteer": "volunteer",
    "志愿": "volunteer",
    "志愿服务": "volunteer",
    "other": "other",
    "其他": "other",
}
# Languages a person or group can be spoken to in (render/locales holds their catalogs).
LANGUAGES = ("zh", "en")
DEFAULT_LANGUAGE = "zh"
LANGUAGE_WORDS = {
    "zh": "zh",
    "cn": "zh",
    "中文": "zh",
    "chinese": "zh",
    "en": "en",
    "英文": "en",
    "english": "en",
}


def language_of(code: str | None) -> str:
    """The language for Telegram's `language_code`: English for en*, else Chinese."""
    return "en" if code and code.lower().startswith("en") else DEFAULT_LANGUAGE


def parse_language(word: str) -> str | None:
    """`/lang` argument → a language code, None if unknown."""
    return LANGUAGE_WORDS.get(word.strip().lower())


DEFAULT_DURATION = dt.timedelta(hours=2)
MAX_TITLE = 60
MAX_PLACE = 60
MAX_REASON = 200
MAX_ID = 999_999_999  # nine digits: fits every id column
MAX_CAPACITY = 10_000
MAX_HOURS = 24.0
MAX_REMIND_HOURS = 24 * 30
FIRST_DATE = dt.date(2000, 1, 1)
YEARS_AHEAD = 5  # dates later than today + 5 years are typing mistakes
# ASCII digits only: str.isdigit() and \d also accept "²" or "٣", which int() may reject.
# Dates as office staff write them (after NFKC folds full-width digits and punctuation).
_DATES = (
    re.compile(r"^(?P<y>[0-9]{4})[-/.](?P<m>[0-9]{1,2})[-/.](?P<d>[0-9]{1,2})$"),
    re.compile(r"^(?:(?P<y>[0-9]{4})年)?(?P<m>[0-9]{1,2})月(?P<d>[0-9]{1,2})[日号]?$"),
    re.compile(r"^(?P<m>[0-9]{1,2})[-/](?P<d>[0-9]{1,2})$"),
)
RELATIVE_DAYS = {"今天": 0, "今日": 0, "明天": 1, "明日": 1, "后天": 2, "大后天": 3}
RELATIVE_DAYS |= {"today": 0, "tomorrow": 1}
_WEEKDAY = re.compile(r"^(?P<which>下个?|这个?|本)?(?:周|星期|礼拜)(?P<day>[一二三四五六日天1-7])$")
_WEEKDAY_NUMBERS = {c: i for i, c in enumerate("一二三四五六日")} | {"天": 6}
_WEEKDAY_NUMBERS |= {str(i + 1): i for i in range(7)}
_ENGLISH_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_WEEKDAY_NUMBERS |= {n: i for i, name in enumerate(_ENGLISH_WEEKDAYS) for n in (name, name[:3])}
# Times: 15:00, 15点, 15点半, 15点30(分), 下午3点, 下午3:30, 3pm, 3:30pm.
_TIME = re.compile(
    r"^(?P<part>上午|早上|早晨|中午|下午|晚上|傍晚|凌晨)?"
    r"(?:(?P<h>[0-9]{1,2}):(?P<m>[0-9]{2})"
    r"|(?P<hz>[0-9]{1,2}|[一二两三四五六七八九十]{1,3})[点时](?:(?P<half>半)|(?P<mz>[0-9]{1,2})分?)?"
    r"|(?P<hp>[0-9]{1,2})(?=am|pm))"
    r"(?P<ampm>am|pm)?$"
)
_CHINESE_HOURS = {w: i for i, w in enumerate("零一二三四五六七八九十", start=0)} | {"两": 2}
_AFTERNOON = ("下午", "晚上", "傍晚")
_CODE = re.compile(r"^[A-Za-z0-9]{1,32}$")
_ID = re.compile(r"^#?([0-9]{1,9})$")
_COUNT = re.compile(r"^[0-9]{1,6}$")
_DECIMAL = re.compile(r"^[0-9]{1,4}(?:\.[0-9]{1,3})?$")
_USERNAME = re.compile(r"^@([A-Za-z0-9_]{1,32})$")
_TELEGRAM_ID = re.compile(r"^-?[0-9]{1,16}$")
# `key=value` (or ＝): an English key or its Chinese name; the key is a word, not a sentence.
_OPTION = re.compile(r"^([^\W\d_]\w{0,9})[=＝](.*)$", re.DOTALL)
OPTION_NAMES = {
    "place": "地点",
    "end": "结束",
    "unit": "单位",
    "code": "签到码",
    "hours": "时长",
    "cap": "名额",
    "deadline": "截止",
    "leave": "请假",
    "qr": "二维码",
    "checkout": "签退",
    "repeat": "重复",
    "count": "次数",
    "title": "标题",
    "date": "日期",
    "time": "时间",
    "plan": "计划",
    "form": "形式",
    "materials": "材料",
    "topic": "主题",
    "quarter": "季度",
    "owner": "负责",
    "cadence": "周期",
    "target": "目标",
    "number": "编号",
}
OPTION_KEYS = {name: key for key, name in OPTION_NAMES.items()} | {
    "截止时间": "deadline",
    "结束时间": "end",
    "人数": "cap",
    "学时": "hours",
    "小时": "hours",
    "学习计划": "plan",
    "计划编号": "plan",
    "学习形式": "form",
    "学习材料": "materials",
    "负责人": "owner",
    "负责单位": "owner",
    "截止日期": "deadline",
}


def storable(text: str) -> bool:
    """False for text no database column can hold (NUL, lone surrogates from forged JSON)."""
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def make_storable(text: str) -> str:
    """`text` with what no column can hold replaced (for names Telegram gives us)."""
    if storable(text):
        return text
    return text.replace("\x00", "").encode("utf-8", "replace").decode("utf-8")


def parse_kind(word: str) -> str:
    kind = KIND_ALIASES.get(word.strip().lower())
    if kind is None:
        raise Refusal("kind_unknown", word=word[:20])
    return kind


def date_range(today: dt.date) -> tuple[dt.date, dt.date]:
    """The dates anything may be scheduled on: 2000-01-01 to five years from today."""
    try:
        last = today.replace(year=today.year + YEARS_AHEAD)
    except ValueError:  # 29 February
        last = today.replace(year=today.year + YEARS_AHEAD, day=28)
    return FIRST_DATE, last


def parse_date(text: str, today: dt.date) -> dt.date:
    """A date as people write it, within `date_range(today)`, or a refusal naming the forms or
    the range: `2026-12-07`, `2026/12/07`, `2026年12月7日`, `12-07`, `12/7`, `12月7日` (without a
    year: the nearest such date to today), `今天` `明天` `后天` `大后天`, `周五` (the next Friday,
    today included), `下周三` (Wednesday of next week), `本周一`, `today`, `tomorrow`, `fri`."""
    word = unicodedata.normalize("NFKC", text).strip().lower()
    day = _written_date(word, today)
    if day is None:
        raise Refusal("date_invalid", text=text[:20])
    first, last = date_range(today)
    if not first <= day <= last:
        raise Refusal("date_out_of_range", text=text[:20], first=first, last=last)
    return day


def _written_date(word: str, today: dt.date) -> dt.date | None:
    if word in RELATIVE_DAYS:
        return today + dt.timedelta(days=RELATIVE_DAYS[word])
    if weekday := _weekday(word, today):
        return weekday
    for form in _DATES:
        if match := form.match(word):
            parts = match.groupdict()
            month, day = int(parts["m"]), int(parts["d"])
            if parts.get("y"):
                return _date_or_none(int(parts["y"]), month, day)
            nearby = [_date_or_none(today.year + k, month, day) for k in (0, 1, -1)]
            candidates = [d for d in nearby if d is not None]
            # The nearest to today; a tie (never with whole years) would go to the future.
            return min(candidates, key=lambda d: abs(d - today)) if candidates else None
    return None


def _weekday(word: str, today: dt.date) -> dt.date | None:
    """周五 or fri (on or after today), 下周五 (in next calendar week), 本周五/这周五 (this
    week's)."""
    if word.isalpha() and word.isascii() and word in _WEEKDAY_NUMBERS:  # friday, fri
        which, number = "", _WEEKDAY_NUMBERS[word]
    elif match := _WEEKDAY.match(word):
        which, number = match["which"] or "", _WEEKDAY_NUMBERS[match["day"]]
    else:
        return None
    monday = today - dt.timedelta(days=today.weekday())
    if which.startswith("下"):
        return monday + dt.timedelta(days=7 + number)
    if which:
        return monday + dt.timedelta(days=number)
    return today + dt.timedelta(days=(number - today.weekday()) % 7)


def _date_or_none(year: int, month: int, day: int) -> dt.date | None:
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def parse_time(text: str) -> dt.time:
    """A time of day as people write it: `15:00`, `15：00`, `15点`, `15点半`, `15点30分`,
    `下午3点`, `下午3:30`, `晚上8点`, `三点`, `3pm`, `3:30pm`; or a refusal naming the forms."""
    word = unicodedata.normalize("NFKC", text).strip().lower().replace(" ", "")
    match = _TIME.match(word)
    at = _time_of(match) if match else None
    if at is None:
        raise Refusal("time_invalid", text=text[:20])
    return at


def _time_of(match: re.Match[str]) -> dt.time | None:
    part, ampm = match["part"], match["ampm"]
    hour: int | None
    if match["h"] is not None:
        hour, minute = int(match["h"]), int(match["m"])
    elif match["hp"] is not None:
        hour, minute = int(match["hp"]), 0
    else:
        hour = _hour_number(match["hz"])
        minute = 30 if match["half"] else int(match["mz"] or 0)
    if hour is None or minute > 59 or (part and ampm):
        return None
    if ampm:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if ampm == "pm" else 0)
    elif (part in _AFTERNOON and hour < 12) or (part == "中午" and hour < 6):
        hour += 12
    elif part in ("上午", "早上", "早晨") and hour > 12:
        return None
    return dt.time(hour, minute) if hour <= 23 else None


def _hour_number(word: str) -> int | None:
    if word.isascii():
        return int(word)
    if len(word) == 1:
        return _CHINESE_HOURS.get(word)
    # 十一, 十二, 二十, 二十三: tens then units.
    tens, _, units = word.partition("十")
    if "十" not in word:
        return None
    value = (_CHINESE_HOURS.get(tens, -99) if tens else 1) * 10 + (
        _CHINESE_HOURS.get(units, -99) if units else 0
    )
    return value if 0 <= value <= 23 else None


def local_to_utc(day: dt.date, at: dt.time, zone: ZoneInfo) -> dt.datetime:
    return dt.datetime.combine(day, at, tzinfo=zone).astimezone(dt.UTC)


def clean_text(raw: str, limit: int, key: str = "text_invalid") -> str:
    """Collapse whitespace; refuse empty, control characters and text over `limit`."""
    text = " ".join(raw.split())
    if not text or any(not ch.isprintable() for ch in text):
        raise Refusal(key, limit=limit)
    if len(text) > limit:
        raise Refusal("text_too_long", limit=limit)
    return text


def clean_multiline(raw: str, limit: int, usage: str) -> str:
    """Free text whose line breaks are kept (notices, reminders); `usage` when it is empty."""
    text = raw.strip()
    if not text:
        raise Refusal(usage)
    if len(text) > limit:
        raise Refusal("text_too_long", limit=limit)
    if any(not (ch.isprintable() or ch in "\n\t") for ch in text):
        raise Refusal("text_invalid", limit=limit)
    return text


def parse_code(raw: str) -> str:
    if not _CODE.match(raw):
        raise Refusal("code_invalid")
    return raw


def parse_id(raw: str) -> int:
    """`12` or `#12` → 12; anything else is refused."""
    match = _ID.match(raw.strip())
    if match is None:
        raise Refusal("id_invalid")
    return int(match[1])


def parse_capacity(raw: str) -> int:
    if not _COUNT.match(raw) or not 1 <= int(raw) <= MAX_CAPACITY:
        raise Refusal("cap_invalid", max=MAX_CAPACITY)
    return int(raw)


def parse_hours(raw: str, *, allow_zero: bool = False) -> float:
    """Service hours: a plain decimal number, more than 0 (or 0 when allowed) and at most 24."""
    value = raw.strip()
    if not _DECIMAL.match(value):
        raise Refusal("hours_invalid")
    hours = float(value)
    if not (hours >= 0 if allow_zero else hours > 0) or hours > MAX_HOURS:
        raise Refusal("hours_invalid")
    return hours


SWITCH = {"on": True, "off": False, "开": True, "关": False, "开启": True, "关闭": False}
LEAVE_MODES = ("free", "approve")
REPEATS = ("weekly", "biweekly", "monthly")
MAX_SERIES = 52
CHOICE_NAMES = {
    "free": "自由",
    "approve": "审批",
    "weekly": "每周",
    "biweekly": "隔周",
    "monthly": "每月",
}
CHOICE_WORDS = {name: value for value, name in CHOICE_NAMES.items()} | {
    "无需审批": "free",
    "需审批": "approve",
    "需要审批": "approve",
    "双周": "biweekly",
}


def parse_switch(option: str, raw: str) -> bool:
    """`on` / `off` (开 / 关) for an option such as qr= or checkout=."""
    value = SWITCH.get(raw.strip().lower())
    if value is None:
        raise Refusal("option_value_invalid", option=option, values="开/on 关/off")
    return value


def parse_choice(option: str, raw: str, choices: tuple[str, ...]) -> str:
    """One of `choices` (or its Chinese name) for an option such as leave= or repeat=, else a
    refusal listing them."""
    value = raw.strip().lower()
    value = CHOICE_WORDS.get(value, value)
    if value not in choices:
        values = " ".join(f"{CHOICE_NAMES[c]}/{c}" for c in choices)
        raise Refusal("option_value_invalid", option=option, values=values)
    return value


def parse_series_count(raw: str) -> int:
    """count= of a series: 2 to 52 activities."""
    value = raw.strip()
    if not _COUNT.match(value) or not 2 <= int(value) <= MAX_SERIES:
        raise Refusal("count_invalid", max=MAX_SERIES)
    return int(value)


def parse_remind(raw: str) -> dt.timedelta | None:
    """`remind=` of a notice: hours until the follow-up (0 < h ≤ 720), or `off` (None)."""
    value = raw.strip().lower()
    if value == "off":
        return None
    if not _DECIMAL.match(value) or not 0 < float(value) <= MAX_REMIND_HOURS:
        raise Refusal("remind_invalid")
    return dt.timedelta(hours=float(value))


@dataclass(frozen=True)
class MemberRef:
    """A person named in a command: by @username, numeric Telegram id or registered name."""

    username: str | None = None
    telegram_id: int | None = None
    name: str | None = None


MAX_REF_NAME = 32


def parse_member_ref(raw: str) -> MemberRef:
    """`@chenjing`, `123456789`, or a real name as registered (`陈静`, `Tao Wang`)."""
    ref = " ".join(unicodedata.normalize("NFKC", raw).split())
    if match := _USERNAME.match(ref):
        return MemberRef(username=match[1])
    if _TELEGRAM_ID.match(ref):
        return MemberRef(telegram_id=int(ref))
    plausible = (
        ref
        and not ref.startswith("@")
        and not ref.lstrip("-").isdigit()  # a number too long to be an id is no name either
        and len(ref) <= MAX_REF_NAME
        and all(ch.isprintable() for ch in ref)
    )
    if not plausible:
        raise Refusal("member_ref_invalid", ref=ref[:64])
    return MemberRef(name=ref)


def split_options(words: list[str]) -> tuple[list[str], dict[str, str]]:
    """Leading free words, then `key=value` options (an option's value may span words). A key
    may be written in English or Chinese (`地点=五楼` is `place=五楼`)."""
    free: list[str] = []
    options: dict[str, str] = {}
    key: str | None = None
    for word in words:
        match = _OPTION.match(word)
        if match:
            written = match[1].lower()
            key = OPTION_KEYS.get(written, written)
            options[key] = match[2]
        elif key is not None:
            options[key] = f"{options[key]} {word}"
        else:
            free.append(word)
    return free, options


def known_options(
    words: list[str], known: Collection[str], renamed: Mapping[str, str] | None = None
) -> tuple[list[str], dict[str, str]]:
    """`split_options`, with keys `renamed` (a command's own meaning of a shared Chinese
    name: 单位= names a plan item's units, 截止= a task's due date) and an unknown key refused."""
    free, options = split_options(words)
    for key, meant in (renamed or {}).items():
        if key in options:
            options[meant] = options.pop(key)
    unknown = set(options) - set(known)
    if unknown:
        raise Refusal("option_unknown", option=sorted(unknown)[0][:20], known=option_list(known))
    return free, options


def option_list(keys: Collection[str]) -> str:
    """`地点/place 结束/end …`: the keys an option refusal lists, in both spellings."""
    return " ".join(f"{OPTION_NAMES[k]}/{k}" if k in OPTION_NAMES else k for k in keys)


# What people add around a one-word answer: punctuation, tildes, a closing particle, an "OK"
# emoji. Stripped before the word is looked up; a message that says more is ordinary chat.
_REPLY_NOISE = re.compile(r"[\s\W_]+")  # whitespace, punctuation, symbols (emoji included)
_REPLY_PARTICLES = ("了", "啦", "哈", "哦", "喔", "呀", "哒")
REPLY_MAX = 12  # longer than this is a sentence, not an answer


def classify_reply(text: str, words: Mapping[str, Collection[str]]) -> str | None:
    """Which answer a typed message is (`ack`, `roll`…, the keys of `words`), or None.

    Full-width characters are folded (NFKC), punctuation and emoji dropped, a closing particle
    (收到了, 收到啦) removed, then the whole rest must be one of the words: "收到！", "收到~",
    "收到👌" and "好的，收到" are answers; "收到通知了吗？" is not. A message of only 👍 or 👌
    counts as the word it is listed under.
    """
    folded = unicodedata.normalize("NFKC", text).strip().lower()
    if not folded or len(folded) > REPLY_MAX:
        return None
    compact = "".join(folded.split())
    for kind, listed in words.items():
        # Emoji-only answers, before the emoji are dropped: 👍, 👍👍.
        single = len(set(compact)) == 1 and not compact[0].isalnum()
        if compact in listed or (single and compact[0] in listed):
            return kind
    core = _REPLY_NOISE.sub("", folded)
    while core.endswith(_REPLY_PARTICLES) and len(core) > 1:
        core = core[:-1]
    if not core:
        return None
    for kind, listed in words.items():
        if core in listed or any(len(w) > 1 and core == w * (len(core) // len(w)) for w in listed):
            return kind  # the word, or the word said twice (收到收到)
    return None


class Window(Enum):
    NOT_OPEN = "not_open"
    ON_TIME = "present"
    LATE = "late"
    CLOSED = "closed"


@dataclass(frozen=True)
class CheckinPolicy:
    opens_before: dt.timedelta = dt.timedelta(minutes=30)
    late_after: dt.timedelta = dt.timedelta(minutes=15)

    def window(self, now: dt.datetime, starts_at: dt.datetime, ends_at: dt.datetime) -> Window:
        """Where `now` falls: before the window, on time, late, or after the end."""
        if now < starts_at - self.opens_before:
            return Window.NOT_OPEN
        if now > ends_at:
            return Window.CLOSED
        if now > starts_at + self.late_after:
            return Window.LATE
        return Window.ON_TIME

    def opens_at(self, starts_at: dt.datetime) -> dt.datetime:
        return starts_at - self.opens_before


def places_to_fill(capacity: int | None, confirmed: int, waitlisted: int) -> int:
    """How many from the head of the waitlist move up (capacity None: no limit)."""
    if capacity is None:
        return waitlisted
    return max(0, min(capacity - confirmed, waitlisted))


def signup_status(capacity: int | None, confirmed: int) -> str:
    """A new sign-up is confirmed while places remain, else waitlisted."""
    return "confirmed" if capacity is None or confirmed < capacity else "waitlisted"


CHECKOUT_GRACE = dt.timedelta(hours=2)  # 签退 stays possible this long after the end


def worked_hours(
    checked_in: dt.datetime, checked_out: dt.datetime, starts_at: dt.datetime, ends_at: dt.datetime
) -> float:
    """Real hours (签退): check-in to check-out, rounded down to the half hour, at most the
    activity's length."""
    worked = max(0.0, (checked_out - checked_in).total_seconds())
    length = (ends_at - starts_at).total_seconds()
    return math.floor(min(worked, length) / 1800) / 2


def default_hours(starts_at: dt.datetime, ends_at: dt.datetime) -> float:
    """Service hours for an activity that did not state them: its length, to the half hour."""
    return round((ends_at - starts_at).total_seconds() / 1800) / 2


def quarter_bounds(day: dt.date) -> tuple[dt.date, dt.date]:
    """First day of `day`'s quarter and first day of the next quarter."""
    first_month = (day.month - 1) // 3 * 3 + 1
    start = dt.date(day.year, first_month, 1)
    if first_month == 10:
        return start, dt.date(day.year + 1, 1, 1)
    return start, dt.date(day.year, first_month + 3, 1)


def local_day_start(day: dt.date, zone: ZoneInfo) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=zone).astimezone(dt.UTC)


def parse_local_datetime(text: str, zone: ZoneInfo, today: dt.date) -> dt.datetime:
    """A date and a time in `zone`, as UTC: `2026-12-07T15:00`, `2026-12-07 15:00`, or any of
    `parse_date`'s forms followed by any of `parse_time`'s, with or without a space
    (`12月7日15点`, `明天下午3点`)."""
    day, sep, at = text.strip().replace(" ", "T").rpartition("T")
    splits = [(day, at)] if sep else [(text[:i], text[i:]) for i in range(1, min(len(text), 40))]
    for raw_day, raw_at in splits:
        try:
            parsed_day, parsed_at = parse_date(raw_day, today), parse_time(raw_at)
        except Refusal as refusal:
            if refusal.key == "date_out_of_range":
                raise
            continue
        return local_to_utc(parsed_day, parsed_at, zone)
    raise Refusal("datetime_invalid", text=text[:20])


def local_today(now: dt.datetime, zone: ZoneInfo) -> dt.date:
    return now.astimezone(zone).date()


_PERIOD = re.compile(r"^([0-9]{4})(?:-?[qQ]([1-4]))?$")


@dataclass(frozen=True)
class Period:
    """A quarter (Q1 = January–March) or a whole year, in the configured time zone."""

    year: int
    quarter: int | None = None

    @property
    def key(self) -> str:
        """`2026-Q4` or `2026`: how it is written in commands and file names."""
        return f"{self.year}-Q{self.quarter}" if self.quarter else str(self.year)

    def days(self) -> tuple[dt.date, dt.date]:
        """First day, and the first day after."""
        if self.quarter is None:
            return dt.date(self.year, 1, 1), dt.date(self.year + 1, 1, 1)
        return quarter_bounds(dt.date(self.year, self.quarter * 3 - 2, 1))

    def bounds(self, zone: ZoneInfo) -> tuple[dt.datetime, dt.datetime]:
        """[start, end) in UTC."""
        first, after = self.days()
        return local_day_start(first, zone), local_day_start(after, zone)

    def quarters(self) -> list[Period]:
        """The quarters of its year (a report shows them side by side)."""
        return [Period(self.year, q) for q in range(1, 5)]

    def previous(self) -> Period:
        if self.quarter is None:
            return Period(self.year - 1)
        if self.quarter == 1:
            return Period(self.year - 1, 4)
        return Period(self.year, self.quarter - 1)


def quarter_of(day: dt.date) -> Period:
    return Period(day.year, (day.month - 1) // 3 + 1)


def parse_period(raw: str | None, today: dt.date) -> Period:
    """`2026-Q4`, `2026Q4` or `2026`; none: the current quarter. Years within the date range."""
    if not raw:
        return quarter_of(today)
    match = _PERIOD.match(raw.strip())
    if match is None:
        raise Refusal("period_invalid", text=raw[:20])
    first, last = date_range(today)
    year = int(match[1])
    if not first.year <= year <= last.year:
        raise Refusal("period_out_of_range", text=raw[:20], first=first.year, last=last.year)
    return Period(year, int(match[2]) if match[2] else None)


def quota_status(held: int, scheduled: int) -> str:
    """A duty of at least one in the period: `done`, `scheduled` (not yet held) or `missing`."""
    if held:
        return "done"
    return "scheduled" if scheduled else "missing"


def rate(part: int, whole: int) -> float | None:
    """A fraction 0..1, or None when there is nothing to divide by."""
    return part / whole if whole else None


def attendance_rate(attended: int, excused: int, expected: int) -> float | None:
    """出勤率, the one formula of /me, /report, /history and the ledger: attended (on time, late,
    or by an approved 补签) over the expected less the excused (approved leave; leave waiting
    for a decision or refused excuses nothing). None when nothing is left to divide by."""
    return rate(attended, expected - excused)
