"""The accessibility rule, as plain functions (no Telegram here), for texts read by screen readers.

The rule:

* A button label has words: at least one letter or CJK ideograph (Unicode category L*). An
  emoji may go with a word ("✅ 签到"), never replace it ("👍", "✅", "1").
* A status is said in words, not only with a symbol: a line holding a status symbol (✓ ✗ ✅ ❌
  ⚠️ 🟢 🔴 ⏳ …) also holds a status word ("已完成 ✓", "签到 ✅", "Not an admin ⚠️"), so
  removing the symbols leaves a line that still says the same thing. Status words are a small
  vocabulary per language (STATUS_WORDS_ZH, STATUS_WORDS_EN): Chinese states a status with
  已/未/不/无/没/待 … or words such as 成功、截止、候补; English with done, not, confirmed …
  A name next to a tick ("张三 ✓") says nothing about the status and is refused. Both
  vocabularies apply to every text (an English line may quote a Chinese name, and back).
* A card reads well line by line: no line made only of symbols, emoji and punctuation (a
  decorative rule such as "——————", "━━━", "· · ·", "====", or a lone "✓"); no line that
  opens with a decorative run ("—— 已批准", "==> 结果"), and no run of three or more rule
  characters inside a line. Empty lines are fine (they are pauses, not noise).
* No arrow standing for words ("点我的头像 → 发消息", "进度 → 已办结"): a screen reader reads
  "rightwards arrow"; say "然后", "改为", "then", "set to".
* In a catalog template, an emoji is never the only label of a value: "📍 {place}" reads as
  "round pushpin, 三楼会议室"; it must say "📍 地点：{place}". Checked by `template_ok`, on the
  template, since in the rendered text the value cannot be told from a label.

`button_label_ok`, `text_ok` and `template_ok` say whether a text keeps the rule; the
`…_problems` functions list what breaks it, each a sentence quoting the offending line, so a
failing assertion says what to fix.
"""

from __future__ import annotations

import re
import unicodedata

# Symbols that mark a status (done, failed, warning, open, waiting …).
STATUS_SYMBOLS = frozenset("✓✔☑✅✗✘✖❌❎⚠🟢🔴🟡🟠🔵🟣⚪⚫⏳⌛⏹⛔🚫⭕❗❓‼🆗🆕")
# Characters that only shape an emoji (variation selectors, joiner, skin tones, keycap).
EMOJI_MODIFIERS = frozenset("\ufe0e\ufe0f\u200d\u20e3") | {chr(c) for c in range(0x1F3FB, 0x1F400)}
# Arrows: they stand for words ("then", "set to", "改为"), which a screen reader does not say.
ARROWS = (
    frozenset("➡⬅⬆⬇➔➜➝➞")
    | {chr(c) for c in range(0x2190, 0x2200)}
    | {chr(c) for c in range(0x27F5, 0x2800)}
)
# Characters decorative rules are drawn with.
RULE_CHARS = frozenset("-‐‑‒–—―─━═=_~*·•・∙⋯…＝－＿～") | {chr(c) for c in range(0x2500, 0x2580)}

# Words that state a status. Chinese: the markers of a state (已…, 未…, 不…, 无…, 没…, 待…,
# 非…) and the nouns/verbs of a state. English: status adjectives, participles and negation.
STATUS_WORDS_ZH = (
    "已", "未", "不", "无", "没", "待", "非",
    "成功", "失败", "可以", "能", "注意", "警告", "错误", "截止", "候补", "确认", "有效",
    "正常", "完成", "结束", "取消", "过期", "开放", "办结", "受理", "进行中", "签到中", "办理中",
    "满意", "停用",
    "签到", "签退", "请假", "迟到", "缺席", "批准", "驳回", "收到", "报名", "递补", "提醒",
)  # fmt: skip
STATUS_WORDS_EN = (
    "done", "complete", "completed", "yes", "no", "not", "none", "ok", "okay", "approved",
    "rejected", "cancelled", "canceled", "ended", "over", "closed", "closes", "open", "opens",
    "confirmed", "waitlist", "waitlisted", "received", "present", "late", "absent", "leave",
    "valid", "invalid", "warning", "note", "failed", "failure", "error", "success",
    "successful", "pending", "deadline", "cannot", "can't", "couldn't", "isn't",
    "expired", "signed", "checked", "reminder", "unable", "satisfied", "until", "can",
    "don't", "doesn't", "won't", "acknowledged", "resolved",
    "missing", "lacking", "stopped", "ready", "due",
)  # fmt: skip
_EN_WORD = re.compile(r"[A-Za-z][A-Za-z']*")


def _is_letter(ch: str) -> bool:
    return unicodedata.category(ch).startswith("L")


def _is_emoji_part(ch: str) -> bool:
    return ch in EMOJI_MODIFIERS or unicodedata.category(ch) == "So"


def button_label_problems(label: str) -> list[str]:
    """Problems with one inline button's label: it must hold a word, not only symbols."""
    if not label.strip():
        return [f"button label {label!r} is empty"]
    if not any(_is_letter(ch) for ch in label):
        return [
            f"button label {label!r} has no word (only emoji, symbols, digits or punctuation): "
            "a screen reader reads it as a symbol's name; say what it does, e.g. '签到 ✅'"
        ]
    return []


def _has_status_word(line: str) -> bool:
    if any(word in line for word in STATUS_WORDS_ZH):
        return True
    words = {w.lower() for w in _EN_WORD.findall(line)}
    return any(word in words for word in STATUS_WORDS_EN)


def line_problems(line: str) -> list[str]:
    """Problems with one line of a message (see the module's docstring)."""
    stripped = line.strip()
    if not stripped:
        return []
    problems: list[str] = []
    if not any(_is_letter(ch) or ch.isdigit() for ch in stripped):
        problems.append(
            f"line {line!r} has no words (only symbols, emoji or punctuation): a decorative "
            "rule or a bare symbol; a screen reader reads out every character"
        )
        return problems
    lead = stripped.replace(" ", "")
    run = 0
    while run < len(lead) and lead[run] in RULE_CHARS:
        run += 1
    if run >= 2:
        problems.append(f"line {line!r} opens with a decorative run {lead[:run]!r}")
    if re.search(f"[{re.escape(''.join(sorted(RULE_CHARS - {'.'})))}]{{3,}}", stripped):
        problems.append(f"line {line!r} holds a decorative run of three or more rule characters")
    arrows = sorted({ch for ch in stripped if ch in ARROWS})
    if arrows:
        problems.append(
            f"line {line!r} says something only with {''.join(arrows)!r}: use the words it "
            "stands for ('然后', '改为', 'then', 'set to')"
        )
    symbols = sorted({ch for ch in stripped if ch in STATUS_SYMBOLS})
    if symbols and not _has_status_word(stripped):
        problems.append(
            f"line {line!r} gives a status only as {''.join(symbols)!r}: say it in words too "
            "(e.g. '已完成 ✓', 'Done ✓')"
        )
    return problems


def text_problems(text: str) -> list[str]:
    """Problems with a message, caption or toast, line by line."""
    return [problem for line in text.split("\n") for problem in line_problems(line)]


_FIELD = re.compile(r"\{[^{}]*\}")


def template_problems(template: str) -> list[str]:
    """Problems of a catalog template that its rendered texts cannot show: an emoji as the
    only label of a value ("📍 {place}"). A line is cut into parts at "·", "|" and the marks
    that end a clause (。，；！？ , ; ! ? and ". "); a part that holds an emoji and a placeholder
    must also hold a word of its own."""
    problems: list[str] = []
    literal_braces = template.replace("{{", "").replace("}}", "")
    for line in literal_braces.split("\n"):
        for part in re.split(r"[·|。，；！？,;!?]|\.\s", line):
            if not _FIELD.search(part) or not any(_is_emoji_part(ch) for ch in part):
                continue
            rest = _FIELD.sub("", part)
            if not any(_is_letter(ch) for ch in rest):
                emoji = "".join(ch for ch in part if _is_emoji_part(ch))
                problems.append(
                    f"{part.strip()!r}: the emoji {emoji!r} is the only label of the value; "
                    "add a word (e.g. '📍 地点：{place}')"
                )
    return problems


def button_label_ok(label: str) -> bool:
    """Whether a button's label has words."""
    return not button_label_problems(label)


def text_ok(text: str) -> bool:
    """Whether a message, caption or toast reads well line by line, statuses in words."""
    return not text_problems(text)


def template_ok(template: str) -> bool:
    """Whether a catalog template labels every value with words, not only an emoji."""
    return not template_problems(template)
