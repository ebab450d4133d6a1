"""Texts of quiet hours (非工作时间不打扰), merged into bot.texts.ZH (keys must not clash)."""

ZH: dict[str, str] = {
    "quiet_urgent_mark": "【紧急】",
    "quiet_notice_urgent": "紧急通知：提醒不受免打扰时段限制。",
    "quiet_notice_held": "（处于免打扰时段 {window}，将于 {until} 发出。）",
    "quiet_outbox_held": "\n免打扰时段 {window}：{count} 条自动私信暂缓，将于 {until} 发出。",
    "quiet_outbox_window": "\n免打扰时段 {window}：期间的自动私信暂缓，结束后依次发出。",
    "quiet_outbox_off": "\n免打扰时段：关闭。",
}
