"""Texts of rapid calls (青年突击队 紧急集结) and the squad pool, merged into bot.texts.ZH
(keys must not clash)."""

ZH: dict[str, str] = {
    # --- /muster ---
    "muster_usage": (
        "用法：/muster [@单位|squad] need=人数 [within=分钟] 内容\n"
        "例如：/muster need=20 within=30 防汛抢险，18:00 到单位门口集合\n"
        "within 默认 30 分钟；@单位 只呼叫该单位，squad 只呼叫青年突击队。\n"
        "/muster 编号 — 响应名单 · /muster — 进行中的集结"
    ),
    "muster_need_invalid": "人数无效：need= 请写 {low}–{high} 的整数，例如 need=20。",
    "muster_within_invalid": "时限无效：within= 请写 {low}–{high} 的分钟数（不写默认 30）。",
    "muster_text_missing": (
        "请写出集结内容（任务、地点、要求），例如：/muster need=20 防汛抢险，18:00 到单位门口集合"
    ),
    "muster_no_group": "还没有设置主群：请先在群里发送 /setup，再发起紧急集结。",
    "muster_unknown": "没有编号为 #{id} 的紧急集结。发送 /muster 查看进行中的集结。",
    "muster_closed": "紧急集结 #{id} 已结束，不再接受回复。谢谢！",
    "muster_target_all": "全体成员",
    "muster_target_squad": "青年突击队",
    "muster_where_main": "主群",
    "muster_where_unit": "{unit} 分组群",
    "muster_where_unit_main": "主群（{unit} 没有分组群）",
    "muster_created": (
        "已发起紧急集结 #{id}：需要 {need} 人，{closes} 截止（{within} 分钟）。\n"
        "卡片发到{where}；已私信呼叫 {called} 人{unreachable}。\n"
        "到 {half} 仍不足 {need} 人时，再私信呼叫还没回复的人；结束时把名单私信发给你。\n"
        "查看进度：/muster {id}"
    ),
    "muster_created_unreachable": "，{count} 人无法私信（从未私聊启动机器人或已屏蔽），请另行通知",
    # The card in the group, and the private call (same text and buttons, no live count).
    "muster_card": (
        "【青年突击队 · 紧急集结】#{id}\n{text}\n👥 {target} · 需要 {need} 人 · ⏳ {closes} 截止\n"
        "{counts}{status}"
    ),
    "muster_counts": (
        "已响应 {confirmed}/{need}：已确认 {confirmed} · 候补 {waitlisted} · 去不了 {declined}"
    ),
    "muster_card_hint": "\n点“我能去”报名，前 {need} 人确认，之后为候补。",
    "muster_card_ended": "\n⏹ 已结束：最终已确认 {confirmed}/{need} 人。",
    "muster_call": (
        "【青年突击队 · 紧急集结】#{id}\n{text}\n👥 {target} · 需要 {need} 人\n"
        "⏳ 请在 {closes} 前回复：点“我能去”或“去不了”（前 {need} 人确认）。"
    ),
    "muster_recall": (
        "【再次呼叫 · 紧急集结】#{id} 还差 {missing} 人！\n{text}\n"
        "⏳ {closes} 截止：请点“我能去”或“去不了”。"
    ),
    "muster_button_go": "我能去",
    "muster_button_no": "去不了",
    # Answers (toasts, at most 200 characters).
    "muster_confirmed": "✅ 已确认，谢谢！#{id} 截止 {closes}。任务：{task}",
    "muster_waitlisted": (
        "人数已满（已确认 {need} 人）。你是候补第 {position} 位："
        "有人退出时按顺序递补，届时私信通知你。"
    ),
    "muster_declined": "已记录：去不了。#{id} 如情况变化，截止 {closes} 前仍可点“我能去”。",
    "muster_declined_freed": "已记录：去不了。你的名额已让给候补。#{id}",
    "muster_declined_waitlist": "已记录：去不了，你已退出 #{id} 的候补。",
    "muster_already_confirmed": "你已确认参加 #{id}，无需重复。截止 {closes}。任务：{task}",
    "muster_already_waitlisted": "你已是 #{id} 的候补第 {position} 位，无需重复。",
    "muster_already_declined": "你已回复“去不了”，无需重复。如能参加请点“我能去”。",
    # A freed place.
    "muster_promoted": (
        "✅ 递补成功：你已从候补转为已确认！紧急集结 #{id}\n{text}\n⏳ {closes} 截止。"
        "如不能去，请点“去不了”，名额会让给下一位。"
    ),
    "muster_promoted_unreachable": (
        "紧急集结 #{id}：{name}（{unit}）已从候补递补为已确认，但我无法私信通知 TA，请另行联系。"
    ),
    "muster_card_failed": "紧急集结 #{id} 的群卡片没能发出（{error}）；私信呼叫照常进行。",
    # /muster 编号, and the roster sent to the creator at the end.
    "muster_roster_header": (
        "紧急集结 #{id}（{page}/{pages}）{state}\n{title}\n"
        "已确认 {confirmed}/{need} · 候补 {waitlisted} · 去不了 {declined} · 未回复 {silent}"
    ),
    "muster_state_open": "进行中，{closes} 截止",
    "muster_state_closed": "已结束",
    "muster_section_confirmed": "【已确认】",
    "muster_section_waitlisted": "【候补】（按先后）",
    "muster_section_declined": "【去不了】",
    "muster_section_silent": "【未回复】",
    "muster_section_none": "（无）",
    "muster_unit_line": "{unit}（{count}）：{names}",
    "muster_unit_more": "　{names}",
    "muster_waitlist_place": "{name}〔{position}〕",
    "muster_no_dm": "（无法私信）",
    # /muster
    "muster_list_header": "进行中的紧急集结（{page}/{pages}）：",
    "muster_list_line": (
        "#{id} {title} · 已确认 {confirmed}/{need} · 候补 {waitlisted} · {closes} 截止"
    ),
    "muster_list_none": "目前没有进行中的紧急集结。发起：/muster need=人数 [within=分钟] 内容",
    # --- /squad ---
    "squad_usage": (
        "用法：/squad join 加入青年突击队 · /squad leave 退出\n"
        "加入后，青工委发起“突击队”紧急集结时会优先私信呼叫你。青工委发送 /squad 查看名单。"
    ),
    "squad_joined": "已加入青年突击队：紧急集结时会私信呼叫你。退出：/squad leave",
    "squad_joined_no_dm": "\n注意：我还不能私信你，请先私聊我发送 /start，否则收不到呼叫。",
    "squad_already": "你已在青年突击队中。退出：/squad leave",
    "squad_left": "已退出青年突击队。重新加入：/squad join",
    "squad_not_member": "你不在青年突击队中。加入：/squad join",
    "squad_empty": (
        "青年突击队还没有成员（成员发送 /squad join 加入）：请去掉 squad，呼叫全体成员。"
    ),
    "squad_header": "青年突击队（{page}/{pages}）共 {count} 人：",
    "squad_none": "青年突击队还没有成员。成员发送 /squad join 即可加入。",
}
