"""Texts of one feature, merged into bot.texts.ZH (keys must not clash)."""

ZH: dict[str, str] = {
    # --- 我为青年办实事: /need (the sender) ---
    "need_private_only": (
        "诉求请在与我的私聊中提交（点我的头像 → 发消息，发送 /need），只有青工委能看到，可以匿名。"
    ),
    "need_choose_category": "我为青年办实事（1/3）：请选择诉求类别。随时发送 /cancel 退出。",
    "need_ask_text": "（2/3）类别：{category}。请直接发送诉求内容（不超过 {limit} 字）。",
    "need_ask_sign": (
        "（3/3）请选择发送方式：\n"
        "署名 — 青工委能看到你的姓名和单位；\n"
        "匿名 — 青工委看不到你的姓名、用户名和账号，回复和办理进度仍会私信告诉你。"
    ),
    "need_button_signed": "署名",
    "need_button_anonymous": "匿名",
    "need_category_unknown": "没有“{word}”这个类别。可选类别：{categories}",
    "need_text_empty": "请写诉求内容：/need 类别 内容 [匿名]，或只发 /need 按步骤填写。",
    "need_text_too_long": "诉求内容太长（{length} 字）：最多 {limit} 字，请精简后再发。",
    "need_text_invalid": "诉求内容含有无法识别的控制字符，请删去后再发。",
    "need_stale": "这次填写已结束或已超时，请重新发送 /need。",
    "need_sent_toast": "已发送",
    "need_receipt_signed": (
        "已收到你的诉求 #{id}（{category}，署名）。青工委会跟进，回复和办理进度会私信告诉你。"
    ),
    "need_receipt_anonymous": (
        "已收到你的诉求 #{id}（{category}，匿名）。青工委看不到你的姓名、用户名和账号；"
        "回复和办理进度仍会私信告诉你。"
    ),
    "need_reply_to_sender": "💬 青工委回复了你的诉求 #{id}（{category}）：\n\n{text}",
    "need_status_to_sender": "📌 你的诉求 #{id}（{category}）进度：{status}。",
    "need_done_to_sender": "✅ 你的诉求 #{id}（{category}）已办结。请评价办理结果（只记一次）：",
    "need_button_satisfied": "满意",
    "need_button_unsatisfied": "不满意",
    "need_rated": "感谢评价：{rating}。",
    "need_rated_already": "你已评价过诉求 #{id}：{rating}。每件诉求只记一次评价。",
    "need_rated_mark": "\n\n你的评价：{rating}",
    "need_rate_not_done": "诉求 #{id} 尚未办结，办结后再评价。",
    "need_rating_yes": "满意",
    "need_rating_no": "不满意",
    # --- the committee's side: the new-need message and /needs ---
    "need_new_committee": (
        "📮 新诉求 #{id} · {category}\n提交人：{sender}\n\n{preview}\n\n查看：/needs {id}"
        " · 回复：/needs reply {id} 内容"
    ),
    "need_sender_anonymous": "匿名",
    "need_sender_signed": "{name}（{unit}）",
    "need_status_new": "待受理",
    "need_status_accepted": "已受理",
    "need_status_in_progress": "办理中",
    "need_status_done": "已办结",
    "needs_usage": (
        "用法：\n"
        "/needs [open|all|类别|状态] [页码] — 诉求列表（默认未办结）\n"
        "/needs 编号 — 详情和处理记录\n"
        "/needs reply 编号 内容 — 回复提交人（由我私信转达）\n"
        "/needs status 编号 受理|办理中|办结 — 更新进度并告知提交人\n"
        "类别：{categories}"
    ),
    "needs_filter_open": "未办结",
    "needs_filter_all": "全部",
    "needs_header": "诉求（{filter}）共 {total} 件 · 第 {page}/{pages} 页",
    "needs_next_page": "下一页：/needs {word} {page}",
    "needs_none": "（没有符合条件的诉求）",
    "needs_page_out": "没有第 {page} 页（共 {pages} 页）。",
    "needs_line": (
        "#{id} {category} · {status} · {date} · {sender} · 回复 {replies}{rating}\n　{preview}"
    ),
    "needs_line_rating": " · {rating}",
    "needs_unknown": "诉求 #{id} 不存在。",
    "needs_detail_header": "诉求 #{id} · {category} · {status}（{page}/{pages}）",
    "needs_detail_body": "提交：{date} · {sender}\n回复 {replies} 次{rating}\n内容：\n{text}",
    "needs_detail_rating": " · 评价：{rating}",
    "needs_history": "【处理记录】",
    "needs_history_reply": "{at} 回复（{by}）：{text}",
    "needs_history_status": "{at} 进度 → {status}（{by}）",
    "needs_history_rating": "{at} 提交人评价：{rating}",
    "needs_history_none": "（暂无）",
    "needs_detail_actions": (
        "回复：/needs reply {id} 内容 · 进度：/needs status {id} 受理|办理中|办结"
    ),
    "needs_reply_usage": "用法：/needs reply 编号 内容（内容会由我私信转达提交人）",
    "needs_replied": "已记录对诉求 #{id} 的回复，正私信转达提交人。",
    "needs_status_usage": "用法：/needs status 编号 受理|办理中|办结",
    "needs_status_same": "诉求 #{id} 已经是这个状态。",
    "needs_status_set": "诉求 #{id} 的进度已改为：{status}，已告知提交人。{rate}",
    "needs_status_rate_hint": "提交人会收到“满意 / 不满意”评价按钮。",
    # --- /report and the ledger ---
    "needs_report_header": "【我为青年办实事】",
    "needs_report_total": (
        "诉求 {total} 件：待受理 {new} · 已受理 {accepted} · 办理中 {in_progress} · 已办结 {done}"
    ),
    "needs_report_category": (
        "{category} {total} 件（待受理 {new} · 已受理 {accepted} · 办理中 {in_progress} ·"
        " 已办结 {done}）"
    ),
    "needs_report_rate": "满意率 {rate}（满意 {satisfied} / 已评价 {rated}）",
    "needs_report_none": "（本期没有收到诉求）",
    "needs_sheet": "诉求",
    "needs_col_id": "编号",
    "needs_col_date": "提交时间",
    "needs_col_category": "类别",
    "needs_col_status": "状态",
    "needs_col_text": "内容",
    "needs_col_sender": "提交人",
    "needs_col_unit": "提交人单位",
    "needs_col_replies": "回复次数",
    "needs_col_rating": "评价",
}
