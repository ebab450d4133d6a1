"""The texts catalog. Every user-facing string lives here; Chinese is the default locale."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

MESSAGE_LIMIT = 4096
TOAST_LIMIT = 200

ZH: dict[str, str] = {
    # --- general ---
    "error_internal": "抱歉，处理时出错了，请稍后再试。如多次出现请联系青工委。",
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
        "/help — 显示本帮助"
    ),
    "help_lead": "\n\n【分组组长】\n你是 {unit} 的组长，可为本分组创建活动、查看名单。",
    "help_admin": (
        "\n\n【青工委】\n"
        "/setup — 把本群设为主群（通知和提醒发到这里）\n"
        "/setup 单位 — 把本群设为该单位的分组群\n"
        "/unit add 名称 — 新增单位\n"
        "/unit rename 旧名 新名 — 单位改名\n"
        "/promote @用户名|ID（或回复其消息）— 设为青工委成员\n"
        "/demote @用户名|ID（或回复其消息）— 取消青工委成员\n"
        "/lead 单位 @用户名|ID（或回复其消息）— 设为分组组长\n"
        "/lead off @用户名|ID（或回复其消息）— 取消组长\n"
        "/members — 按单位列出已登记成员（私聊）"
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
    "setup_unit": "已将本群设为 {unit} 的分组群。",
    "setup_rights_ok": "权限检查：我是管理员，可以置顶消息。✅",
    "setup_not_admin": "⚠️ 我还不是本群管理员：请在群设置中把我设为管理员，并开启“置顶消息”权限。",
    "setup_cannot_pin": "⚠️ 我是管理员但没有“置顶消息”权限：请在管理员设置中开启。",
    # --- members ---
    "members_header": "已登记成员共 {count} 人（{page}/{pages}）",
    "members_unit": "【{unit}】{count} 人",
    "members_line": "{name}{username}",
    "members_none": "还没有人登记。",
}

COMMANDS_MEMBER: list[tuple[str, str]] = [
    ("start", "开始使用 / 允许私信提醒"),
    ("help", "查看命令"),
    ("register", "登记：姓名 单位"),
    ("units", "单位（分组）列表"),
]
COMMANDS_ADMIN: list[tuple[str, str]] = [
    ("setup", "设为主群 / 分组群"),
    ("unit", "管理单位：add / rename"),
    ("promote", "设为青工委成员"),
    ("demote", "取消青工委成员"),
    ("lead", "设置分组组长"),
    ("members", "已登记成员"),
]


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
