"""Texts of one feature, merged into bot.texts.ZH (keys must not clash)."""

ZH: dict[str, str] = {
    # The issuer named on every certificate and every /verify answer: the committee's full
    # name (自治区残联青工委 in the 2023 work plan). A deployment changes it here only.
    "cert_committee": "内蒙古自治区残疾人联合会机关青年工作委员会",
    # --- /certificate ---
    "cert_usage": (
        "用法：/certificate [年份]，例如 /certificate 2026（不写则为今年）。请在与我的私聊中发送。"
    ),
    "cert_year_invalid": (
        "年份“{text}”无效：请写 {first} 至 {last} 之间的四位年份，例如 /certificate {last}。"
    ),
    "cert_no_hours": (
        "{year} 年你还没有计入的志愿服务时长，暂不能开具志愿服务证明。"
        "只有已结束、并已为你记入服务时长的志愿活动才算（/me 可查看）；如有出入，请联系青工委更正。"
    ),
    "cert_file": "志愿服务证明_{name}_{year}.pdf",
    "cert_caption": (
        "{year} 年志愿服务证明：志愿活动 {count} 次，累计 {hours} 小时。\n"
        "验证码：{code}\n"
        "任何人都可以向我发送 /verify {code} 核验。"
    ),
    # --- /verify ---
    "cert_verify_usage": (
        "用法：/verify 验证码，例如 /verify 7KQM-3XPD-H9TF（短横线和大小写均可省略）。"
    ),
    "cert_unknown": (
        "没有这个验证码：请核对后再试。验证码是证明底部的 12 位字母和数字，例如 7KQM-3XPD-H9TF。"
    ),
    "cert_verified": (
        "✅ 验证码 {code} 有效\n"
        "姓名：{name}\n"
        "年度：{year}\n"
        "志愿服务活动：{count} 次\n"
        "累计服务时长：{hours} 小时\n"
        "开具日期：{issued}\n"
        "开具单位：{committee}"
    ),
    "cert_superseded": (
        "注意：此后已为本人重新开具 {year} 年的证明（时长有更正），请以最新证明为准。"
    ),
    # --- the PDF ---
    "cert_pdf_title": "志愿服务证明",
    "cert_pdf_body": (
        "兹证明 {name}（{unit}）于 {year} 年参加志愿服务活动 {count} 次，"
        "累计服务时长 {hours} 小时。具体如下："
    ),
    "cert_pdf_col_date": "日期",
    "cert_pdf_col_activity": "志愿服务活动",
    "cert_pdf_col_hours": "时长（小时）",
    "cert_pdf_total": "合计",
    "cert_pdf_issued": "{year}年{month}月{day}日",
    "cert_pdf_code": "验证码：{code}",
    "cert_pdf_how": (
        "核验方法：在 Telegram 中向 @{bot} 发送 /verify {code}，"
        "将显示本证明的姓名、年度和累计服务时长。"
    ),
    "cert_pdf_footer": "验证码 {code} · 第 {page}/{pages} 页",
}
