"""The texts catalog. Every user-facing string lives here; Chinese is the default locale."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bot import (
    texts_certificates,
    texts_muster,
    texts_needs,
    texts_qr,
    texts_quiet,
    texts_series,
)

MESSAGE_LIMIT = 4096
TOAST_LIMIT = 200

ZH: dict[str, str] = {
    # --- general ---
    "error_internal": "抱歉，处理时出错了，请稍后再试。如多次出现请联系青工委。",
    "busy": "系统繁忙，请稍后再试。",
    "press_handled": "已处理：结果见卡片上的计数。",
    "as_is": "{text}",
    "anonymous_sender": "我看不出是谁发的命令（你正以群组或频道身份匿名发言）。请在群管理员设置中关闭“匿名发言”，或在与我的私聊中使用该命令。",
    "not_admin": "抱歉，该命令仅限青工委成员使用。",
    "not_admin_or_lead": "抱歉，该操作仅限青工委成员或该分组组长。",
    "group_only": "请在群组中使用该命令。",
    "private_only": "请在与我的私聊中使用该命令（点我的头像 → 发消息）。",
    "sent_privately": "已私信发送给你。",
    "dm_first": "我还不能私信你：请先在私聊中给我发送 /start，然后再试。",
    "name_invalid": "名称无效：不能为空、不能含特殊字符，且不超过 {limit} 个字。",
    "text_too_long": "内容太长（最多 {limit} 字）。",
    "unknown_command": "没有这个命令。发送 /help 查看可用命令。",
    # --- start / help ---
    "start_private": (
        "你好，{name}！我是青工委助手。\n"
        "我会提醒学习、会议和志愿活动，帮你签到、请假、报名，并转达青工委通知。\n"
        "{register_hint}\n发送 /help 查看全部命令。"
    ),
    "start_group": "你好！我是青工委助手。发送 /help 查看命令；请先私聊我发送 /start，以便接收私信提醒。",
    "register_hint_unregistered": "请先登记：/register 姓名 单位",
    "register_hint_registered": "你已登记为：{real_name}（{unit}）。",
    "help_header": "青工委助手 · 命令",
    "help_member": (
        "/register 姓名 单位 — 登记实名和所在单位\n"
        "/units — 查看单位（分组）列表\n"
        "/events — 近期活动及编号\n"
        "/checkin [编号] [签到码] — 签到（也可点群里活动公告的“签到”按钮）\n"
        "/leave 编号 原因 — 请假（部分活动需审批）\n"
        "/makeup 编号 原因 — 活动结束后申请补签（需审批）\n"
        "/signup 编号 · /withdraw 编号 — 志愿活动报名 / 取消报名（也可点卡片按钮）\n"
        "/checkout 编号 — 志愿服务签退，按实际时长计时（也可点卡片按钮）\n"
        "在群里引用通知回复“收到”、引用活动卡片回复“到”，和点按钮一样算数\n"
        "/me — 我的签到、请假、报名和志愿服务时长\n"
        "/top — 本年志愿服务时长榜\n"
        "/squad join · /squad leave — 加入 / 退出青年突击队（紧急集结时私信呼叫你，点“我能去”响应）\n"
        "/certificate [年份] — 我的志愿服务证明（PDF，私聊）· /verify 验证码 — 核验证明\n"
        "/need — 我为青年办实事：私聊向青工委反映诉求（就业、住房、婚恋等，可匿名）\n"
        "/cancel — 退出当前操作\n"
        "/help — 显示本帮助"
    ),
    "help_lead": (
        "\n\n【分组组长】\n你是 {unit} 的组长，可为本分组创建活动、查看名单和报告：\n"
        "本组成员需审批的请假和补签申请会私信发给你，点“批准”或“驳回”即可。\n"
        "/newevent 类型 日期 时间 标题 unit={unit} …\n/roster 编号\n/qr 编号 — 现场签到二维码\n"
        "/report · /export · /history @用户名 · /record 编号 纪要…（仅本分组）"
    ),
    "help_admin": (
        "\n\n【青工委】\n"
        "/setup — 把本群设为主群（通知和提醒发到这里），并检查我的权限\n"
        "/setup 单位 — 把本群设为该单位的分组群\n"
        "/chats — 已绑定的群：类型、状态、最近发送时间\n"
        "/report [2026-Q4|2026] — 季度或年度青年工作报告（私信，含图表）\n"
        "/export [2026|2026-Q4] — 导出台账 Excel（私信）\n"
        "/import — 私聊发送名单文件（.xlsx/.csv）并写说明 /import；/import template 取模板\n"
        "/history @用户名|ID — 某人今年各季度的出勤\n"
        "/record 编号 纪要… — 保存活动纪要；私聊发照片写说明 /record 编号 添加照片\n"
        "/unit add 名称 — 新增单位\n"
        "/unit rename 旧名 新名 — 单位改名\n"
        "/promote @用户名|ID（或回复其消息）— 设为青工委成员\n"
        "/demote @用户名|ID（或回复其消息）— 取消青工委成员\n"
        "/lead 单位 @用户名|ID（或回复其消息）— 设为分组组长\n"
        "/lead off @用户名|ID（或回复其消息）— 取消组长\n"
        "/members — 按单位列出已登记成员（私聊）\n"
        "/newevent 类型 日期 时间 标题 [place= end= unit= code=] — 新建活动（私聊中只发 /newevent 可按步骤创建）\n"
        "  leave=approve 请假需审批 · qr=on 只能扫码签到\n"
        "  志愿活动另有 cap=名额 deadline=YYYY-MM-DDTHH:MM hours=服务时长 checkout=on 签退按实际计时\n"
        "  系列活动加 repeat=weekly|biweekly|monthly count=次数（2–52）\n"
        "/hours 编号 @用户名|ID 小时数 — 更正某人的服务时长\n"
        "/event cancel 编号 · /event edit 编号 key=value — 取消 / 修改活动\n"
        "/event cancel 编号 all — 取消系列中从该活动起的各次 · /event clone 编号 日期 [时间] — 复制活动\n"
        "/roster 编号 — 签到、请假、未签到名单（私聊）\n"
        "/qr 编号 — 现场签到二维码（私聊发送，每隔一段时间自动更换）\n"
        "/notice [@单位|all] [remind=小时|off] 内容 — 发布通知（带“收到”按钮，可附图片/文件）\n"
        "/notice edit 编号 内容 · /notice delete 编号 — 修改 / 删除通知\n"
        "/acks 编号 — 谁还没回复“收到”（私聊）\n"
        "/chase 编号 — 立即私信提醒未回复的人\n"
        "/muster [@单位|squad] need=人数 [within=分钟] 内容 — 青年突击队紧急集结（私信呼叫，不受免打扰限制）；/muster 编号 响应名单 · /muster 进行中 · /squad 突击队名单\n"
        "/outbox — 发送队列状态\n"
        "/needs [open|all|类别] — 青年诉求列表（私聊）· /needs 编号 — 详情和处理记录\n"
        "/needs reply 编号 内容 — 回复提交人 · /needs status 编号 受理|办理中|办结 — 更新进度\n"
        "/remind — 接下来的提醒；/remind add|del|on|off|time … 管理提醒"
    ),
    # --- register ---
    "register_usage": "用法：/register 姓名 单位\n例如：/register 张三 办公室",
    "register_ok": "登记成功：{real_name}（{unit}）。",
    "unit_unknown": "没有名为“{name}”的单位。可选单位：{units_list}",
    "units_none": "（暂无单位，请青工委先用 /unit add 添加）",
    # --- units ---
    "units_header": "单位（分组）共 {count} 个：",
    "units_line": "{index}. {name} · 已登记 {members} 人{chat}",
    "units_chat_mark": " · 有分组群",
    "unit_usage": "用法：\n/unit add 名称\n/unit rename 旧名 新名\n/units 查看列表",
    "unit_added": "已新增单位：{name}",
    "unit_renamed": "已将单位“{old}”改名为“{new}”。",
    "unit_exists": "单位“{name}”已存在。",
    # --- people ---
    "target_usage": "请回复此人的消息，或写出其 @用户名 或数字 ID。",
    "member_ref_invalid": "“{ref}”不是有效的 @用户名 或数字 ID。",
    "member_unknown": "找不到 {ref}：此人需要先与我互动过（例如在群里发言后被回复、或私聊 /start）。",
    "promoted": "{name} 已成为青工委成员。",
    "already_admin": "{name} 已经是青工委成员。",
    "demoted": "{name} 已不再是青工委成员。",
    "not_promoted": "{name} 不是通过 /promote 设置的青工委成员。",
    "bootstrap_admin": "{name} 是配置文件 ADMIN_IDS 中的管理员，不能在此取消。",
    "lead_usage": "用法：/lead 单位 @用户名|ID，或 /lead off @用户名|ID（也可回复其消息）。",
    "lead_set": "{name} 已成为 {unit} 的分组组长。",
    "lead_cleared": "{name} 已不再是分组组长。",
    # --- setup ---
    "setup_main": "已将本群设为主群：通知和提醒将发到这里。",
    "setup_main_again": "本群是主群：通知和提醒发到这里。",
    "setup_unit": "已将本群设为 {unit} 的分组群。",
    "setup_unit_again": "本群是 {unit} 的分组群。",
    "setup_rights": "我在本群的权限：置顶消息 {pin} · 删除消息 {delete}",
    "right_yes": "可以 ✅",
    "right_no": "不可以 ⚠️",
    "setup_not_admin": "⚠️ 我还不是本群管理员：请在群设置中把我设为管理员，并开启“置顶消息”权限。",
    "setup_cannot_read": "⚠️ 我看不到群里的普通消息（我不是管理员，且隐私模式开着）：引用回复通知或活动卡片的“收到”“到”仍然有效，直接发的不会被计数。请把我设为管理员，或在 @BotFather 发送 /setprivacy 并选 Disable。",
    "setup_cannot_pin": "⚠️ 我是管理员但没有“置顶消息”权限：请在管理员设置中开启。",
    # --- chats ---
    "chats_none": "还没有绑定任何群：在群里发送 /setup（主群）或 /setup 单位名（分组群）。",
    "chats_header": "已绑定的群（{count} 个）：",
    "chats_line": "{index}. {title} · {binding} · {kind} · {state} · 最近发送：{last}",
    "chats_binding_main": "主群",
    "chats_binding_unit": "{unit} 分组群",
    "chats_kind_group": "普通群",
    "chats_kind_supergroup": "超级群",
    "chats_status_active": "正常",
    "chats_status_removed": "我已被移出",
    "chats_status_no_admin": "我不是管理员（不能置顶）",
    "chats_status_no_pin": "没有置顶权限",
    "chats_last_none": "无",
    "chat_added": "你好！我是青工委助手。请青工委成员在本群发送 /setup（设为主群）或 /setup 单位名（设为该单位的分组群），并把我设为管理员、开启“置顶消息”。",
    "chat_removed_by": "，操作人：{name}",
    "chat_removed_main": "⚠️ 我被移出了主群「{title}」{by}。在新的主群发送 /setup 之前，提醒会私信发给青工委成员，通知和活动无法发布。",
    "chat_removed_unit": "⚠️ 我被移出了「{title}」（{unit} 分组群）{by}。{unit} 的通知、活动公告和提醒改发到主群，直到在新的分组群发送 /setup {unit}。",
    "chat_removed_unit_no_main": "⚠️ 我被移出了「{title}」（{unit} 分组群）{by}。现在也没有可用的主群：请发送 /setup 设置主群，或在新的分组群发送 /setup {unit}。",
    "chat_removed_dropped": "\n有 {count} 条待发消息无处可发，已取消。",
    "chat_rights_no_admin": "⚠️ 我在「{title}」（{binding}）不再是管理员：通知照常发出，但不会置顶。请把我重新设为管理员并开启“置顶消息”。",
    "chat_rights_no_pin": "⚠️ 我在「{title}」（{binding}）没有“置顶消息”权限了：通知照常发出，但不会置顶。",
    "chat_rights_back": "✅ 我在「{title}」（{binding}）又可以置顶消息了。",
    # --- reports and the ledger ---
    "period_year": "{year}年度",
    "period_quarter": "{year}年第{quarter}季度",
    "report_title_suffix": "青年工作报告",
    "report_scope_unit": "（{unit}）",
    "report_header": "{title}（{page}/{pages}）",
    "report_units_header": "【各分组】",
    "report_unit_line": "{unit}：理论学习 {study}",
    "report_unit_attendance": "　出勤：{tally}",
    "report_tally": "应到 {expected} · 已签到 {present} · 迟到 {late} · 请假 {leave} · 缺席 {absent} · 出勤率 {rate}",
    "report_tally_makeup": "（其中补签 {makeup}）",
    "report_quota_year": "{held} 次，{met}/{due} 个季度达标",
    "status_done": "已完成 ✓",
    "status_scheduled": "已安排（尚未举行）",
    "status_missing": "未开展 ✗",
    "report_committee_header": "【青工委】",
    "report_meetings": "青工委会议（每季度 1 次）：{status}",
    "report_unity": "民族团结教育（{year}年至少 1 次）：{status}",
    "report_total": "全体出勤：{tally}",
    "report_volunteer": "志愿服务：{people} 人 · {times} 人次 · {hours} 小时",
    "report_notices": "通知：{count} 条 · 收到率 {rate}",
    "report_lacking_header": "【缺纪要或照片的活动】",
    "report_lacking_line": "#{id}「{title}」缺{missing}",
    "report_lacking_none": "（无：结束的活动都有纪要和照片）",
    "lacking_both": "纪要和照片",
    "lacking_minutes": "纪要",
    "lacking_photos": "照片",
    "report_low_header": "【出勤率低于 {percent}% 的人】仅青工委可见，请私下关心，不在群里公布。",
    "report_low_line": "{name}（{unit}）出勤率 {rate} · 应到 {expected} · 缺席 {absent}",
    "report_low_none": "（无）",
    "rate_none": "无数据",
    "chart_title": "{title} · 出勤率",
    "chart_y_label": "出勤率（%）",
    "chart_by_unit": "{period}各分组",
    "chart_by_quarter": "{year}年各季度",
    "chart_quarter": "第{quarter}季度",
    "chart_caption": "出勤率图表：左为各分组，右为全年各季度（数字见文字报告）。",
    "ledger_file": "青工委台账_{period}.xlsx",
    "ledger_caption": "{period}台账（{scope}）：活动、签到明细、志愿服务、通知回执、成员、考核。",
    "ledger_scope_all": "全部单位",
    "ledger_preparing": "正在生成，稍候私信发给你。",
    "sheet_activities": "活动",
    "sheet_attendance": "签到明细",
    "sheet_approvals": "审批记录",
    "col_request": "申请类型",
    "col_request_reason": "申请原因",
    "col_decision": "审批结果",
    "col_asked_at": "申请时间",
    "col_decider": "审批人",
    "col_decided_at": "审批时间",
    "sheet_volunteering": "志愿服务",
    "sheet_receipts": "通知回执",
    "sheet_roster": "成员",
    "sheet_assessment": "考核",
    "col_id": "活动编号",
    "col_kind": "类型",
    "col_title": "活动",
    "col_activity_title": "标题",
    "col_target": "对象",
    "col_starts": "开始",
    "col_ends": "结束",
    "col_place": "地点",
    "col_state": "状态",
    "col_expected": "应到",
    "col_present": "已签到",
    "col_late": "迟到",
    "col_leave": "请假",
    "col_absent": "缺席",
    "col_minutes": "纪要",
    "col_photos": "照片数",
    "col_unit": "单位",
    "col_name": "姓名",
    "col_answer": "签到状态",
    "col_checked_at": "签到时间",
    "col_reason": "请假原因",
    "col_signup": "报名状态",
    "col_checked_in": "是否签到",
    "col_hours": "服务时长（小时）",
    "col_notice": "通知编号",
    "col_posted": "发布时间",
    "col_notice_text": "通知内容",
    "col_receipt": "回执",
    "col_received_at": "收到时间",
    "col_title_job": "职务",
    "col_username": "用户名",
    "col_registered": "登记状态",
    "col_registered_at": "登记时间",
    "col_rate": "出勤率",
    "col_item": "项目",
    "col_quota": "要求",
    "col_done": "完成情况",
    "state_active": "正常",
    "state_cancelled": "已取消",
    "answer_present": "已签到",
    "answer_late": "迟到",
    "answer_leave": "请假",
    "answer_absent": "缺席",
    "answer_unregistered": "未登记",
    "answer_makeup": "补签",
    "signup_waitlisted_word": "候补",
    "yes": "是",
    "no": "否",
    "receipt_yes": "已收到",
    "receipt_no": "未收到",
    "registered_yes": "已登记",
    "assess_unit": "{unit}",
    "assess_study_quota": "理论学习：每季度至少 1 次",
    "assess_meetings": "青工委会议",
    "assess_meetings_quota": "每季度 1 次",
    "assess_unity": "民族团结教育",
    "assess_unity_quota": "每年至少 1 次",
    "assess_volunteer": "志愿服务",
    "assess_volunteer_done": "{people} 人 · {times} 人次 · {hours} 小时",
    "assess_notices": "通知",
    "assess_notices_done": "{count} 条 · 收到率 {rate}",
    "report_usage": "用法：/report [YYYY-Qn | YYYY]（不写为本季度），例如 /report 2026-Q4 或 /report 2026。",
    "export_usage": "用法：/export [YYYY-Qn | YYYY]（不写为本季度），例如 /export 2026。",
    "history_usage": "用法：/history @用户名|ID",
    "history_header": "{name}（{unit}，{state}）今年各季度的出勤",
    "history_line": "{period}：{tally}",
    "history_requests": "请假审批与补签：",
    "history_request_line": "{date} #{id}「{title}」{what}（{reason}）：{status}{decided}",
    "history_decided": "，{decider} {at}",
    "record_usage": "用法：/record 编号 纪要内容（保存纪要）；私聊发照片并写说明 /record 编号（添加照片）；/record 编号（查看）。",
    "record_photo_private": "照片请在与我的私聊中发送，说明写 /record 编号。",
    "record_photo_added": "已为活动 #{id} 添加照片，共 {count} 张。",
    "record_too_many_photos": "每个活动最多保存 {limit} 张照片。",
    "record_minutes_saved": "已保存活动 #{id}「{title}」的纪要。",
    "record_show": "活动 #{id}「{title}」\n纪要：{minutes}\n照片：{count} 张",
    "record_no_minutes": "（还没有）",
    # --- roster import (/import) ---
    "import_wrong_type": "只能导入 .xlsx 或 .csv 文件（收到的是“{name}”）。",
    "import_too_big": "文件太大（{size} KB）：最多 {limit} KB。",
    "import_empty": "文件里没有数据：第一行应是表头（姓名、单位，可选 职务、用户名），下面每行一人。",
    "import_missing_columns": "缺少必需的列：{columns}。表头应包含 姓名、单位（可选 职务、用户名）。发送 /import template 获取模板。",
    "import_unreadable": "无法读取这个文件：{reason}。请用 Excel 另存为 .xlsx，或存为 UTF-8 编码的 .csv。",
    "import_too_many_rows": "行数太多（{rows} 行）：一次最多导入 {limit} 人。",
    "import_usage": "用法：在与我的私聊中发送 .xlsx 或 .csv 文件，说明写 /import（或引用该文件回复 /import）。发送 /import template 获取模板。",
    "import_preview": "导入预览（{file}）：新增 {new} · 更新 {updated} · 未变 {unchanged} · 错误 {errors}{units}{error_lines}\n点“确认导入”才会写入；有错误的行不会导入。",
    "import_preview_units": "\n将新建单位：{units}",
    "import_preview_errors": "\n前 {shown} 个错误：\n{lines}",
    "import_nothing": "没有可导入的行（错误 {errors} 个），没有写入任何数据。{error_lines}",
    "import_done": "已导入：新增 {new} · 更新 {updated} · 未变 {unchanged}{units}。\n未登记的人计入应到（显示为“未登记”）；他们私聊发送 /register 姓名 单位 后自动合并，不会重复。",
    "import_done_toast": "已导入",
    "import_cancelled": "已取消导入，没有写入任何数据。",
    "import_stale": "这次导入已处理过或已过期，请重新发送文件。",
    "import_template_file": "青工委成员导入模板.xlsx",
    "import_template_caption": "导入模板：第一行是表头，从第二行起每行一人；姓名、单位必填，职务、用户名可选。",
    "button_import_ok": "确认导入",
    "button_import_no": "取消",
    "import_error_missing_name": "第 {row} 行：缺少姓名",
    "import_error_missing_unit": "第 {row} 行：缺少单位",
    "import_error_duplicate": "第 {row} 行：与第 {first} 行重复（{name}，{unit}）",
    "import_error_duplicate_username": "第 {row} 行：用户名 @{username} 与第 {first} 行重复",
    "import_error_too_long": "第 {row} 行：{column}太长（最多 {limit} 字）",
    "import_error_invalid": "第 {row} 行：{column}含无效字符",
    "import_error_username": "第 {row} 行：用户名“{value}”无效（5–32 位字母、数字或下划线）",
    # --- members ---
    "members_header": "成员名单共 {count} 人，已登记 {registered} 人（{page}/{pages}）",
    "members_unit": "【{unit}】{count} 人",
    "members_line": "{name}{username}{state}",
    "members_unregistered": " · 未登记",
    "members_none": "还没有人登记。",
    # --- activities ---
    "kind_study": "理论学习",
    "kind_meeting": "青工委会议",
    "kind_unity": "民族团结教育",
    "kind_volunteer": "志愿服务",
    "kind_other": "其他活动",
    "newevent_usage": (
        "用法：/newevent 类型 日期 时间 标题 [选项]\n"
        "类型：study 学习 · meeting 会议 · unity 民族团结 · volunteer 志愿 · other 其他\n"
        "选项：place=地点 end=结束时间 unit=单位 code=签到码 leave=approve(请假需审批) qr=on(扫码签到)\n"
        "系列：repeat=weekly|biweekly|monthly count=次数\n"
        "志愿活动：cap=名额 deadline=报名截止(YYYY-MM-DDTHH:MM) hours=服务时长 checkout=on(签退计时)\n"
        "例如：/newevent 学习 2026-12-05 15:00 学习二十大报告 place=三楼会议室\n"
        "在私聊中只发 /newevent 可按步骤创建。"
    ),
    "kind_unknown": "没有“{word}”这种活动类型。可选：study 学习、meeting 会议、unity 民族团结、volunteer 志愿、other 其他。",
    "date_invalid": "日期“{text}”无效，请写成 YYYY-MM-DD，例如 2026-12-05。",
    "date_out_of_range": "日期“{text}”超出范围：请写 {first} 至 {last} 之间的日期。",
    "period_invalid": "时期“{text}”无效：请写 2026-Q4（季度）或 2026（全年），不写则为本季度。",
    "period_out_of_range": "时期“{text}”超出范围：年份须在 {first} 至 {last} 之间。",
    "time_invalid": "时间“{text}”无效，请写成 HH:MM，例如 15:00。",
    "title_invalid": "请写活动标题（不超过 {limit} 字）。",
    "text_invalid": "内容无效：不能为空或含特殊字符（不超过 {limit} 字）。",
    "reason_invalid": "请写请假原因（不超过 {limit} 字）。",
    "code_invalid": "签到码只能是 1–32 位字母或数字。",
    "hours_invalid": "服务时长须是 0–24 之间的数字。",
    "hours_volunteer_only": "hours= 只适用于志愿服务活动。",
    "option_unknown": "不认识的选项“{option}=”。可用：{known}",
    "option_value_invalid": "选项 {option}= 只能是：{values}",
    "not_volunteer": "{option}= 不适用于志愿服务活动（志愿者取消报名即可）。",
    "series_usage": "系列活动须同时写 repeat=weekly|biweekly|monthly 和 count=次数，例如 repeat=weekly count=8。",
    "count_invalid": "count= 须是 2–{max} 的整数。",
    "end_before_start": "结束时间必须晚于开始时间。",
    "activity_in_past": "活动时间已经过去，请检查日期和时间。",
    "no_main_group": "还没有设置主群：请在群里发送 /setup 后再创建活动。",
    "activity_unknown": "活动 #{id} 不存在。",
    "activity_cancelled": "活动 #{id}「{title}」已取消。",
    "activity_created": "已创建活动 #{id}「{title}」，公告马上发到群里。",
    "activity_created_no_card": "活动 #{id}「{title}」已创建，但公告没能发到群里：{reason}",
    "card": "【{kind}】#{id} {title}\n🕒 {when}\n📍 {place}\n👥 {target}\n{counts}{status}",
    "card_counts": "已签到 {present} · 迟到 {late} · 请假 {leave} · 应到 {expected}",
    "card_code_hint": "\n🔑 本活动需签到码：请私聊机器人发送 /checkin {id} 签到码",
    "card_qr_hint": "\n📷 扫码签到：请扫描现场展示的二维码；无法扫码时私聊机器人发送 /checkin {id} 六位代码",
    "card_leave_approve_hint": "\n📝 请假需审批：点“请假”写明原因，由组长或青工委批准",
    "card_checkout_hint": "\n⏱ 结束时请点“签退”，服务时长按实际计时",
    "card_cancelled": "\n❌ 活动已取消",
    "card_ended": "\n✅ 活动已结束",
    "place_none": "待定",
    "target_all": "全体成员",
    "button_checkin": "签到",
    "button_leave": "请假",
    "when": "{date} {start}–{end}",
    "events_none": "近期没有活动。",
    "events_header": "近期活动（{page}/{pages}）",
    "events_line": "#{id} {kind}「{title}」{when} · {place}{state}",
    "events_open": " · 🟢签到中",
    "events_target": " · {unit}",
    "event_usage": "用法：\n/event cancel 编号\n/event cancel 编号 all（连同系列中之后的活动一起取消）\n/event edit 编号 key=value …（可改 title date time end place code cap deadline hours）\n/event clone 编号 YYYY-MM-DD [HH:MM]（复制到新的日期）",
    "edit_usage": "用法：/event edit 编号 key=value …（可改 title date time end place code cap deadline hours leave qr checkout；code=off 取消签到码）",
    "event_cancelled": "已取消活动 #{id}「{title}」。",
    "event_edited": "已更新活动 #{id}：\n{card}",
    "id_invalid": "编号无效：请写不超过 9 位的数字编号，例如 12 或 #12。",
    # --- check-in ---
    "register_first": "请先登记：私聊我发送 /register 姓名 单位",
    "checkin_present": "签到成功 #{id} {title} {time}",
    "checkin_late": "签到成功（迟到）#{id} {title} {time}",
    "checkin_already": "你已签到过 #{id}（{time}）",
    "checkin_not_open": "#{id} 签到尚未开始，将于 {opens} 开放。",
    "checkin_closed": "#{id} 签到已结束。",
    "checkin_need_code": "#{id} 需要签到码：请私聊我发送 /checkin {id} 签到码",
    "checkin_need_qr": "活动 #{id} 须扫码签到：请扫描现场展示的二维码；无法扫码时，在与我的私聊中发送 /checkin {id} 六位数字（二维码下方的代码）。",
    "checkin_wrong_code": "签到码不对，未签到。请向活动组织者确认。",
    "checkin_code_in_group": "签到码请在私聊中发送（群里发出去大家都能看到）：/checkin {id} 签到码",
    "checkin_none_open": "现在没有你可以签到的活动。发送 /events 查看近期活动。",
    "checkin_choose": "现在有多个活动可签到，请写编号：\n{lines}",
    "checkin_choose_line": "/checkin {id} · {kind}「{title}」{when}",
    "checkin_code_prompt": "请发送 #{id}「{title}」的签到码（或 /cancel 放弃）。",
    "leave_usage": "用法：/leave 编号 请假原因",
    "leave_prompt": "请回复 #{id}「{title}」的请假原因（或 /cancel 放弃）。",
    "leave_ok": "已请假 #{id}「{title}」，原因：{reason}",
    "leave_updated": "已更新 #{id} 的请假原因：{reason}",
    "leave_button": "请在与我的私聊中写请假原因。",
    "leave_closed": "#{id} 已结束，不能再请假。",
    "leave_but_present": "你已签到 #{id}，无需请假。",
    # --- leave approval and 补签 ---
    "leave_asked": "已提交 #{id}「{title}」的请假申请（原因：{reason}），待审批。审批结果会私信告诉你。",
    "leave_pending": "你对 #{id} 的请假申请正在审批中，请耐心等待。",
    "leave_approved_already": "你对 #{id} 的请假已获批准。",
    "makeup_usage": "用法：/makeup 编号 原因 — 活动结束后 {days} 天内申请补签，经审批后计为已签到。",
    "makeup_asked": "已提交 #{id}「{title}」的补签申请（原因：{reason}），待审批。审批结果会私信告诉你。",
    "makeup_pending": "你对 #{id} 的补签申请正在审批中，请耐心等待。",
    "makeup_approved_already": "你对 #{id} 的补签已获批准。",
    "makeup_volunteer": "志愿服务活动不办理补签；服务时长有误请联系青工委更正。",
    "makeup_not_yours": "活动 #{id} 不是你所在单位的活动，无需补签。",
    "makeup_still_open": "活动 #{id} 尚未结束，请直接签到（/checkin {id}）。",
    "makeup_too_late": "活动 #{id} 已结束超过 {days} 天，不能再申请补签。",
    "makeup_on_leave": "你已请假 #{id}，不能补签。",
    "makeup_present": "你已签到 #{id}，无需补签。",
    "makeup_quota": "本季度的补签次数已用完（每人每季度最多 {limit} 次）。",
    "approval_kind_leave": "请假",
    "approval_kind_makeup": "补签",
    "approval_request": "【{what}申请】{name}（{unit}）\n活动：#{id}「{title}」{when}\n原因：{reason}",
    "approval_decided_card": "{request}\n—— {decision}（{decider}，{at}）",
    "approval_status_approved": "已批准",
    "approval_status_rejected": "已驳回",
    "approval_status_pending": "待审批",
    "button_approve": "批准",
    "button_reject": "驳回",
    "approval_done_approved": "已批准 {name} 的申请。",
    "approval_done_rejected": "已驳回 {name} 的申请。",
    "approval_decided_before": "该申请已由 {decider} 处理：{decision}。",
    "approval_not_yours": "抱歉，只有该成员所在单位的组长或青工委成员可以审批。",
    "approval_nobody": "\n目前没有可以审批的人（本单位无组长，青工委成员也未启用机器人），请直接联系青工委。",
    "approval_stale": "这是一次较早的申请，已失效；请处理最新的那条消息。",
    "approval_told_ok_leave": "你对 #{id}「{title}」的请假申请已批准（{decider}）。",
    "approval_told_no_leave": "你对 #{id}「{title}」的请假申请被驳回（{decider}）。如能参加，请按时签到。",
    "approval_told_ok_makeup": "你对 #{id}「{title}」的补签已批准（{decider}），计为已签到。",
    "approval_told_no_makeup": "你对 #{id}「{title}」的补签申请被驳回（{decider}）。",
    "approval_pending_reminder": "活动 #{id}「{title}」已结束，以下请假申请仍待你审批：{names}。请在之前的消息中点“批准”或“驳回”。",
    "card_pending": " · 待审批 {pending}",
    # --- 签退 (checkout=on) ---
    "button_checkout": "签退",
    "checkout_usage": "用法：/checkout 编号 — 志愿服务结束时签退，按实际时长计入服务时长。",
    "checkout_done": "已签退 #{id}（{time}），计入服务时长 {hours} 小时。",
    "checkout_already": "你已于 {time} 签退 #{id}，服务时长 {hours} 小时。",
    "checkout_off": "活动 #{id} 无需签退：服务时长按计划计入。",
    "checkout_not_checked_in": "你还没有签到 #{id}，请先签到再签退。",
    "checkout_too_early": "活动 #{id} 还没有开始，不能签退；服务结束时再点“签退”。",
    "checkout_closed": "活动 #{id} 已结束超过 2 小时，不能再签退；已按计划时长计入。",
    "checkout_missed": "你没有在活动 #{id}「{title}」结束后 2 小时内签退，已按计划时长 {hours} 小时计入服务时长。如有出入请联系青工委。",
    "roster_pending": "【待审批】",
    "roster_pending_line": "{index}. {name}（{unit}）{what}：{reason}",
    "roster_makeup_mark": "（补签，{decider} 批准）",
    "dialog_cancelled": "已取消。",
    "dialog_nothing": "当前没有进行中的操作。",
    "button_invalid": "按钮无效或已过期。",
    "button_wrong_kind": "该活动不支持这个操作。",
    # --- roster ---
    "roster_usage": "用法：/roster 编号",
    "roster_header": "#{id}「{title}」{when}（{page}/{pages}）\n已签到 {present} · 迟到 {late} · 请假 {leave} · 未签到 {absent}",
    "roster_present": "【已签到】",
    "roster_leave": "【请假】",
    "roster_absent": "【未签到】",
    "roster_present_line": "{index}. {name}（{unit}）{time}{late}",
    "roster_late_mark": " 迟到",
    "roster_leave_line": "{index}. {name}（{unit}）：{reason}",
    "roster_absent_line": "{index}. {name}（{unit}）",
    "roster_none": "（无）",
    "roster_wrong_codes": "签到码输错 {count} 次",
    "no_unit": "未分组",
    # --- guided creation ---
    "ne_choose_kind": "新建活动（1/4）：请选择类型。随时发送 /cancel 退出。",
    "ne_ask_when": "新建「{kind}」（2/4）：请发送开始日期和时间，例如 2026-12-05 15:00",
    "ne_ask_title": "（3/4）请发送活动标题。",
    "ne_ask_place": "（4/4）请发送地点，或点“跳过”。",
    "ne_skip": "跳过",
    "ne_confirm": "请确认：\n{kind}「{title}」\n时间：{when}\n地点：{place}\n对象：{target}",
    "ne_ok": "确认创建",
    "ne_no": "取消",
    "ne_stale": "这个对话已经结束，请重新发送 /newevent。",
    "ne_group_hint": "按步骤创建请在私聊中发送 /newevent；或直接写全：\n{usage}",
    # --- notices ---
    "notice_usage": (
        "用法：/notice [@单位|all] [remind=小时|remind=off] [urgent|紧急] 通知内容（可多行）\n"
        "@单位：发到该单位的分组群；all：发到主群和所有分组群；默认发到主群。\n"
        "remind=：多少小时后私信提醒未回复“收到”的人（默认 24，off 为不提醒）。\n"
        "urgent/紧急：提醒不受免打扰时段限制。\n"
        "也可以发送图片或文件，并以 /notice … 作为说明文字。\n"
        "/notice edit 编号 新内容 · /notice delete 编号"
    ),
    "notice_edit_usage": "用法：/notice edit 编号 新内容",
    "remind_invalid": "remind= 须是 0–720 之间的小时数，或 off。",
    "unit_no_chat": "{unit} 还没有分组群：请在该群发送 /setup {unit}，或不写 @{unit} 发到主群。",
    "notice_unknown": "通知 #{id} 不存在。",
    "notice_deleted": "通知 #{id} 已删除。",
    "notice_card": "📢 通知 #{id}\n\n{text}\n\n已收到 {acknowledged} / {expected}",
    "button_ack": "收到",
    "notice_posted": "已发布通知 #{id}：{chats}。{pin}{remind}",
    "notice_chats_main": "主群",
    "notice_chats_unit": "{unit} 分组群",
    "notice_chats_all": "主群和 {count} 个分组群",
    "notice_pin_yes": "会置顶。",
    "notice_pin_missing": "⚠️ 我在{where}没有置顶权限，通知不会置顶（请把我设为管理员并开启“置顶消息”）。",
    "notice_remind_at": "{at} 将私信提醒未回复“收到”的人。",
    "notice_remind_off": "不会自动提醒。",
    "notice_acked": "已收到 ✅ 通知 #{id}",
    "notice_already_acked": "你已回复过“收到”（通知 #{id}）。",
    "notice_followup": "🔔 提醒：你还没有回复“收到”\n\n{text}\n\n（通知 #{id}，请点下方“收到”）",
    "reaction_ack": "👌",
    "reaction_checkin": "👍",
    "quiet_group_hint": "{text}\n（先私聊我发送 /start，以后这类提示会私信给你，不打扰群里。）",
    "reply_ack_none": "现在没有等你回复“收到”的通知。",
    "reply_ack_choose": "有 {count} 条通知等你回复“收到”：请引用回复其中一条，或点它下面的“收到”按钮。\n{lines}",
    "reply_ack_line": "通知 #{id}：{text}",
    "notice_followup_report": "通知 #{id}：已私信提醒 {count} 位未回复“收到”的人。",
    "notice_unreachable": "\n以下 {count} 人无法私信提醒（从未私聊启动机器人或已屏蔽），请另行联系：{names}",
    "notice_member_unreachable": "通知 #{id}：{name} 无法接收私信提醒（未启动或已屏蔽机器人），请另行联系。",
    "notice_post_failed": "通知 #{id} 未能发到群 {chat}：{error}",
    "notice_pin_failed": "通知 #{id} 已发到群 {chat}，但未能置顶：{error}",
    "notice_followup_missed": "通知 #{id} 的定时提醒因机器人停机而错过，未发送；可发送 /chase {id} 立即提醒。",
    "notice_edited": "已更新通知 #{id} 的内容（回复计数保留）。",
    "notice_removed": "已删除通知 #{id}，并停止提醒。",
    "acks_usage": "用法：/acks 编号",
    "acks_header": "通知 #{id}（{page}/{pages}）\n已收到 {acknowledged} · 未收到 {missing}",
    "acks_missing": "【未收到】",
    "acks_unit": "{unit}（{count}）：{names}",
    "acks_no_dm": "（无法私信）",
    "acks_all_done": "所有人都已回复“收到”。🎉",
    "chase_usage": "用法：/chase 编号",
    "chase_done": "已开始提醒：私信 {count} 人。{unreachable}",
    "chase_unreachable": "{count} 人无法私信：{names}",
    # --- outbox ---
    "outbox_stats": "发送队列：待发送 {pending} · 已发送 {sent} · 失败 {failed} · 无法送达 {undeliverable} · 已取消 {cancelled}\n最早的待发送：{oldest}",
    "outbox_oldest_none": "无",
    "outbox_oldest_age": "{minutes} 分钟前",
    # --- volunteering ---
    "volunteer_only": "{option}= 只适用于志愿服务活动。",
    "cap_invalid": "名额 cap= 须是 1–{max} 的整数。",
    "cap_below_confirmed": "不能把名额改为 {cap}：已有 {confirmed} 人报名确认。请先联系部分人取消报名。",
    "datetime_invalid": "时间“{text}”无效，请写成 YYYY-MM-DDTHH:MM，例如 2026-03-04T18:00。",
    "deadline_after_start": "报名截止时间不能晚于活动开始时间。",
    "deadline_in_past": "报名截止时间已经过去。",
    "signup_not_volunteer": "#{id} 不是志愿服务活动，无需报名。",
    "signup_closed": "#{id} 报名已截止。",
    "withdraw_closed": "#{id} 活动已开始，不能再取消报名。",
    "not_signed_up": "你没有报名 #{id}。",
    "signup_confirmed": "报名成功 ✅ #{id} {title}",
    "signup_waitlisted": "名额已满，你在候补第 {position} 位（#{id} {title}）。有人取消时会自动递补并通知你。",
    "signup_already_confirmed": "你已报名 #{id}（已确认）。",
    "signup_already_waitlisted": "你已在 #{id} 的候补第 {position} 位。",
    "withdrawn": "已取消报名 #{id} {title}。",
    "withdrawn_waitlist": "已退出 #{id} 的候补。",
    "signup_usage": "用法：/signup 编号",
    "withdraw_usage": "用法：/withdraw 编号",
    "promoted_private": "🎉 你已从候补递补为正式报名：#{id}「{title}」{when}。如不能参加，请点“取消报名”或发送 /withdraw {id}。",
    "promoted_mention": "🎉 #{id}「{title}」候补递补为正式报名：{names}。请留意活动时间 {when}。",
    "card_volunteer": "名额 {confirmed}/{cap} · 候补 {waitlisted} · 已签到 {checked_in}\n⏳ 报名截止 {deadline} · 服务时长 {hours} 小时",
    "cap_unlimited": "不限",
    "button_signup": "报名",
    "button_withdraw": "取消报名",
    "roster_volunteer_header": "#{id}「{title}」{when}（{page}/{pages}）\n已报名 {confirmed}/{cap} · 候补 {waitlisted} · 已签到 {checked_in}",
    "roster_confirmed": "【已报名】",
    "roster_waitlisted": "【候补】",
    "roster_signup_line": "{index}. {name}（{unit}）{checked}{dm}",
    "roster_checked_mark": " ✅已签到",
    "hours_usage": "用法：/hours 编号 @用户名|ID 小时数",
    "hours_set": "已将 {name} 在 #{id}「{title}」的服务时长设为 {hours} 小时。",
    "me_header": "{name}（{unit}）的记录",
    "me_period": "{label}：签到 {present} 次（迟到 {late}）· 请假 {leave} · 缺席 {absent} · 出勤率 {rate}",
    "me_quarter": "本季度",
    "me_year": "本年度",
    "me_signups": "我的报名：",
    "me_signup_line": "#{id}「{title}」{when} · {status}",
    "me_confirmed": "已确认",
    "me_waitlisted": "候补第 {position} 位",
    "me_no_signups": "我的报名：无",
    "me_hours": "志愿服务时长：本年 {year} 小时 · 累计 {total} 小时",
    "top_header": "{year} 年志愿服务时长榜（前 {count} 名）",
    "top_line": "{rank}. {name}（{unit}）{hours} 小时",
    "top_none": "{year} 年还没有志愿服务时长记录。",
    # --- reminders ---
    "rule_quarter_kickoff": "季度开始",
    "rule_study_quota": "理论学习季度任务",
    "rule_meeting_quota": "青工委会议季度任务",
    "rule_unity": "民族团结教育年度任务",
    "rule_leifeng": "学雷锋纪念日",
    "rule_quarter_report": "上季度报告和台账（私信青工委）",
    "quarter_report_text": "📊 {period}已结束：这是该季度的青年工作报告、图表和台账。",
    "rule_activity_24h": "活动前 24 小时",
    "rule_activity_1h": "活动前 1 小时",
    "rule_volunteer_24h": "志愿者私信（活动前 24 小时）",
    "rule_signup_closing": "报名即将截止",
    "rule_checkin_nudge": "开始 10 分钟未签到提醒",
    "rule_notice_followup": "通知追踪",
    "rule_one_off": "单次提醒",
    "target_main": "主群",
    "target_units": "未完成的分组",
    "target_committee": "青工委",
    "target_main_committee": "主群和青工委",
    "target_activity": "#{id} 所在群",
    "target_volunteers": "#{id} 已报名的志愿者",
    "target_unanswered": "#{id} 未签到未请假的人",
    "target_notice": "通知 #{id} 未回复的人",
    "target_unit": "{unit} 分组群",
    "remind_kickoff": "📅 {year} 年第 {quarter} 季度开始了。本季度任务：\n· 每个分组至少开展 1 次青年理论学习\n· 召开 1 次青工委会议\n已安排：\n{scheduled}",
    "remind_none_scheduled": "（暂无，请尽快安排）",
    "remind_scheduled_line": "#{id} {kind}「{title}」{when}{unit}",
    "remind_scheduled_unit": " · {unit}",
    "remind_study_unit": "⏰ 本季度还有 {days} 天结束，{unit} 本季度还没有安排青年理论学习活动，请尽快安排（每季度至少 1 次）。",
    "remind_study_committee": "⏰ 本季度还有 {days} 天结束，以下分组尚未安排青年理论学习：{units}",
    "remind_meeting": "⏰ 本季度还有 {days} 天结束，尚未安排本季度的青工委会议（每季度 1 次）。",
    "remind_unity": "⏰ 今年还没有开展铸牢中华民族共同体意识教育活动（每年至少 1 次），请尽快安排。",
    "remind_leifeng": "🌱 3 月 5 日是学雷锋纪念日，欢迎报名志愿服务活动：\n{activities}",
    "remind_leifeng_none": "（近期暂无可报名的志愿活动，敬请关注）",
    "remind_leifeng_line": "#{id}「{title}」{when} · /signup {id}",
    "remind_before": "⏰ 提醒：{kind}「{title}」#{id} 将于 {when} 开始 · 📍 {place}",
    "remind_volunteer": "⏰ 你报名的志愿活动「{title}」#{id} 将于 {when} 开始 · 📍 {place}。如不能参加，请发送 /withdraw {id}。",
    "remind_signup_closing": "⏳ 志愿活动「{title}」#{id} 报名将于 {deadline} 截止，还有名额：/signup {id}",
    "remind_nudge": "👋「{title}」#{id} 已开始 10 分钟，你还没有签到或请假。签到：/checkin {id}；请假：/leave {id} 原因",
    "remind_one_off": "🔔 提醒：{text}",
    "remind_unreachable": "#{id}「{title}」的私信提醒：以下 {count} 人无法私信（从未私聊启动机器人或已屏蔽），请另行联系：{names}",
    "remind_member_unreachable": "#{id}「{title}」的私信提醒：{name} 无法接收私信（未启动或已屏蔽机器人），请另行联系。",
    "remind_list_header": "接下来的 {count} 条提醒：",
    "remind_list_line": "{at} · {rule} · {target}{state}",
    "remind_list_off": "（已关闭）",
    "remind_list_id": " · 编号 {id}",
    "remind_list_none": "暂无待发的提醒。",
    "remind_rules": "可设置的规则：{rules}",
    "remind_usage": (
        "用法：\n/remind — 接下来的 20 条提醒\n"
        "/remind add YYYY-MM-DD HH:MM [@单位] 内容 — 单次提醒\n"
        "/remind del 编号\n"
        "/remind off 规则 · /remind on 规则 · /remind time 规则 HH:MM"
    ),
    "remind_added": "已添加单次提醒 #{id}：{at} 发到{target}。",
    "remind_deleted": "已删除单次提醒 #{id}。",
    "remind_unknown": "单次提醒 #{id} 不存在。",
    "remind_in_past": "提醒时间已经过去。",
    "remind_rule_unknown": "没有“{rule}”这条规则。{rules}",
    "remind_rule_on": "已开启规则 {rule}（{name}）。",
    "remind_rule_off": "已关闭规则 {rule}（{name}）。",
    "remind_rule_time": "规则 {rule}（{name}）改为每次 {time} 发送。",
    "remind_rule_not_timed": "规则 {rule} 跟随活动时间，不能改时刻。",
}

# Answers typed in chat instead of pressing a button (see db.rules.classify_reply): the whole
# message, once punctuation, emoji and a closing particle are dropped, must be one of these.
REPLY_WORDS: dict[str, frozenset[str]] = {
    "ack": frozenset(
        {"收到", "已收到", "收", "好的收到", "好收到", "已阅", "明白", "1", "👍", "👌", "ok收到"}
    ),
    "roll": frozenset({"到", "签到", "已到", "我到了"}),
}

COMMANDS_MEMBER: list[tuple[str, str]] = [
    ("start", "开始使用 / 允许私信提醒"),
    ("help", "查看命令"),
    ("register", "登记：姓名 单位"),
    ("units", "单位（分组）列表"),
    ("events", "近期活动"),
    ("checkin", "签到：编号 [签到码]"),
    ("leave", "请假：编号 原因"),
    ("makeup", "补签申请：编号 原因"),
    ("signup", "志愿活动报名：编号"),
    ("withdraw", "取消报名：编号"),
    ("checkout", "志愿服务签退：编号"),
    ("me", "我的记录"),
    ("top", "志愿服务时长榜"),
    ("squad", "青年突击队：join 加入 / leave 退出"),
    ("certificate", "志愿服务证明：[YYYY]"),
    ("verify", "核验志愿服务证明：验证码"),
    ("need", "我为青年办实事：向青工委反映诉求"),
    ("cancel", "退出当前操作"),
]
COMMANDS_ADMIN: list[tuple[str, str]] = [
    ("setup", "设为主群 / 分组群"),
    ("unit", "管理单位：add / rename"),
    ("promote", "设为青工委成员"),
    ("demote", "取消青工委成员"),
    ("lead", "设置分组组长"),
    ("members", "已登记成员"),
    ("newevent", "新建活动"),
    ("event", "取消 / 修改活动"),
    ("roster", "活动签到名单"),
    ("qr", "现场签到二维码：编号"),
    ("notice", "发布通知"),
    ("acks", "通知回复情况"),
    ("chase", "立即提醒未回复的人"),
    ("muster", "青年突击队紧急集结"),
    ("outbox", "发送队列状态"),
    ("needs", "青年诉求：列表 / 回复 / 进度"),
    ("chats", "已绑定的群及状态"),
    ("report", "季度/年度报告：[YYYY-Qn|YYYY]"),
    ("export", "导出台账 Excel：[YYYY|YYYY-Qn]"),
    ("import", "导入成员名单（.xlsx/.csv）"),
    ("history", "某人的出勤记录"),
    ("record", "活动纪要和照片"),
    ("hours", "更正服务时长"),
    ("remind", "提醒：列表 / 添加 / 开关"),
]


def _merge(*catalogs: dict[str, str]) -> None:
    """Feature catalogs kept in their own modules join the main one; a clash is a bug."""
    for catalog in catalogs:
        clash = ZH.keys() & catalog.keys()
        assert not clash, f"text keys defined twice: {sorted(clash)}"
        ZH.update(catalog)


_merge(
    texts_certificates.ZH,
    texts_muster.ZH,
    texts_needs.ZH,
    texts_qr.ZH,
    texts_quiet.ZH,
    texts_series.ZH,
)


def t(key: str, **params: Any) -> str:
    """The catalog text `key`, formatted with `params`."""
    return ZH[key].format(**params)


def clip(text: str, limit: int = MESSAGE_LIMIT) -> str:
    """`text` cut to `limit` characters, marking the cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def paginate(
    header: Callable[[int, int], str], lines: list[str], limit: int = MESSAGE_LIMIT
) -> list[str]:
    """Pack `lines` into as few messages as fit `limit`; each starts with header(page, pages)."""
    reserve = len(header(9999, 9999))
    pages: list[list[str]] = [[]]
    size = reserve
    for raw in lines:
        line = clip(raw, limit - reserve - 1)
        if pages[-1] and size + 1 + len(line) > limit:
            pages.append([])
            size = reserve
        pages[-1].append(line)
        size += 1 + len(line)
    total = len(pages)
    return ["\n".join([header(i, total), *page]) for i, page in enumerate(pages, 1)]
