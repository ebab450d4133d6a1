"""Texts of one feature, merged into bot.texts.ZH (keys must not clash)."""

ZH: dict[str, str] = {
    # --- rotating QR check-in (qr=on) ---
    "qr_usage": "用法：/qr 编号（在与我的私聊中发送，把二维码投到屏幕上供大家扫码签到）",
    "qr_not_enabled": "活动 #{id} 没有开启扫码签到。如需开启：/event edit {id} qr=on",
    "qr_not_open": "#{id} 签到尚未开始，将于 {opens} 开放；届时再发送 /qr {id}。",
    "qr_caption": (
        "#{id} {title} · 扫码签到\n"
        "无法扫码？私聊我发送：/checkin {id} {code}\n"
        "本码有效至 {until}（每 {seconds} 秒更换）"
    ),
    "qr_caption_ended": "#{id} {title} · 签到已结束，二维码已停用。",
    "qr_caption_stopped": "#{id} {title} · 扫码签到已停用（活动已取消或已关闭扫码签到）。",
    "qr_send_failed": "二维码没能发出，请稍后再发送 /qr {id}。",
    "qr_expired": "二维码已过期，请扫描现场最新的二维码。",
    "qr_invalid": "二维码无效，未签到。请扫描现场展示的二维码。",
    "qr_code_expired": "代码已过期，请输入现场二维码下方最新的六位代码。",
    "qr_code_wrong": "代码不对，未签到。请输入现场二维码下方的六位代码。",
}
