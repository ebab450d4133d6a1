"""Texts of one feature, merged into bot.texts.ZH (keys must not clash): series and clones."""

ZH: dict[str, str] = {
    "series_created": (
        "已创建系列活动「{title}」，{repeat}一次，共 {count} 次：\n{lines}{moved}\n"
        "第一次的公告马上发到群里；之后每次的公告在活动前 7 天自动发出。"
    ),
    "series_line": "#{id} {date}（周{weekday}）{start}",
    "series_weekdays": "一二三四五六日",
    "series_repeat_weekly": "每周",
    "series_repeat_biweekly": "每两周",
    "series_repeat_monthly": "每月",
    "series_moved": ("\n注意：有的月份没有 {day} 日，这几次改在当月最后一天：{ids}"),
    "series_out_of_range": (
        "系列的最后一次在 {last}，超出了可安排的范围（最晚 {limit}）："
        "请减少次数或改个开始日期。没有创建任何活动。"
    ),
    "series_not_a_series": (
        "活动 #{id} 不属于任何系列，没有取消任何活动。只取消这一个：/event cancel {id}"
    ),
    "series_nothing_to_cancel": "活动 #{id} 及系列中之后的活动都已取消或已结束，没有可取消的了。",
    "series_cancelled": "已取消系列「{title}」中的 {count} 个活动：{ids}",
    "series_id_sep": "、",
    "series_clone_usage": (
        "用法：/event clone 编号 YYYY-MM-DD [HH:MM]\n"
        "复制活动的类型、标题、地点、单位和选项到新的日期；不写时间则与原活动相同。"
    ),
    "series_clone_deadline_past": (
        "复制后的报名截止时间 {deadline} 已经过去：请选更晚的日期，没有创建活动。"
    ),
    "series_cloned": "已将活动 #{source} 复制为 #{id}「{title}」：{when}，公告马上发到群里。",
    "series_position": " · 系列 {k}/{n}",
}
