"""The dashboard's pages as HTML: pure functions of what `db/` returned, in the language being
spoken. Every value is escaped here; every status is words (a symbol only beside them);
figures are tables with headers, so a screen reader reads what a chart shows.

A page is a fragment the shell (`render/webapp/index.html`) puts in place: the tab bar, a
heading, then the page. Links and forms carry their query in `data-q`; the shell's script
sends it with the person's signed initData and puts the answer in place.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from html import escape
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from db import needs as needs_db
from db import reviews as reviews_db
from db.attendance import Roster
from db.dashboard import ACTIVITY_STATES, MAX_ROWS, ActivityLine, NoticeLine, Unacknowledged
from db.models import KINDS, Member, Unit
from db.reports import Report, Tally
from db.rules import Period
from render.charts import render_svg
from render.formats import (
    category_name,
    hours_text,
    kind_name,
    local_time,
    month_day,
    percent,
    period_name,
    short_moment,
    when,
)
from render.plans import execution_text
from render.report import STATUS_KEYS, chart_panels, report_title
from render.tasks import owner_text, review_basis, review_state
from render.texts import current_language, listing, person_name, t

HTML_LANGUAGES = {"zh": "zh-CN", "en": "en"}  # the page's lang, for screen readers
TAB_KEYS = {
    "overview": "dash_tab_overview",
    "activities": "dash_tab_activities",
    "notices": "dash_tab_notices",
    "needs": "dash_tab_needs",
    "tasks": "dash_tab_tasks",
    "me": "dash_tab_me",
    "ledger": "dash_tab_ledger",
}


def e(value: object) -> str:
    return escape(str(value), quote=True)


def q(**params: object) -> str:
    """A page's query: the parameters that are set."""
    return urlencode({k: v for k, v in params.items() if v is not None and v != ""})


def link(text: str, **params: object) -> str:
    query = q(**params)
    return f'<a href="?{e(query)}" data-q="{e(query)}">{e(text)}</a>'


def page(pages: Sequence[str], current: str, title: str, body: str) -> str:
    """The tab bar (the pages this person may open), the heading and the page."""
    tabs = "".join(
        f'<li><a href="?{e(q(tab=name))}" data-q="{e(q(tab=name))}"'
        + (' aria-current="page"' if name == current else "")
        + f">{e(t(TAB_KEYS[name]))}</a></li>"
        for name in pages
    )
    nav = f'<nav aria-label="{e(t("dash_tabs_label"))}"><ul class="tabs">{tabs}</ul></nav>'
    language = HTML_LANGUAGES.get(current_language(), "zh-CN")
    return (
        f'<div class="page" lang="{language}">{nav}'
        f'<main><h1 tabindex="-1">{e(title)}</h1>{body}</main></div>'
    )


def action(back: str, fields: dict[str, object], content: str) -> str:
    """A form that does something (the shell posts it), then shows the page of `back`."""
    hidden = "".join(
        f'<input type="hidden" name="{e(k)}" value="{e(v)}">' for k, v in fields.items()
    )
    return f'<form method="post" data-q="{e(back)}">{hidden}{content}</form>'


def button(text: str, name: str = "", value: str = "") -> str:
    named = f' name="{e(name)}" value="{e(value)}"' if name else ""
    return f'<button type="submit"{named}>{e(text)}</button>'


def notice(text: str, *, alert: bool = False) -> str:
    """A line that says what happened: a refusal (alert) or a confirmation (status)."""
    role, css = ("alert", "refusal") if alert else ("status", "done")
    return f'<p role="{role}" class="{css}">{e(text)}</p>'


def table(caption: str, headers: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    """A table with a caption and column headers; cells are HTML already escaped."""
    head = "".join(f'<th scope="col">{e(h)}</th>' for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>" for row in rows)
    if not body:
        body = f'<tr><td colspan="{len(headers)}">{e(t("dash_none"))}</td></tr>'
    return (
        f'<div class="scroll"><table><caption>{e(caption)}</caption>'
        f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>"
    )


def _select(name: str, label: str, options: Sequence[tuple[str, str]], chosen: str | None) -> str:
    items = "".join(
        f'<option value="{e(value)}"'
        + (" selected" if value == (chosen or "") else "")
        + f">{e(text)}</option>"
        for value, text in options
    )
    return f'<label>{e(label)} <select name="{e(name)}">{items}</select></label>'


def filters(tab: str, fields: Sequence[str]) -> str:
    """A form that reloads the page with the chosen filters (the shell sends it)."""
    return (
        f'<form class="filters" data-get="1"><input type="hidden" name="tab" value="{e(tab)}">'
        + "".join(fields)
        + f'<button type="submit">{e(t("dash_apply"))}</button></form>'
    )


def period_field(periods: Sequence[Period], chosen: Period) -> str:
    return _select(
        "period", t("dash_period"), [(p.key, period_name(p)) for p in periods], chosen.key
    )


def tally_cells(tally: Tally) -> list[str]:
    return [
        e(tally.expected),
        e(tally.present),
        e(tally.late),
        e(tally.leave),
        e(tally.absent),
        e(percent(tally.rate)),
    ]


def tally_headers() -> list[str]:
    return [
        t("dash_expected"),
        t("dash_present"),
        t("answer_late"),
        t("answer_leave"),
        t("answer_absent"),
        t("dash_rate"),
    ]


# ----------------------------------------------------------------------- overview


def _quota(report: Report, status: str, held: int, quarters: set[int]) -> str:
    """已完成 / 已安排 / 未开展 for a quarter; for a year, also how many quarters met it."""
    word = t(STATUS_KEYS[status])
    if report.period.quarter is None:
        word += " · " + t("dash_quarters_met", met=len(quarters), due=report.quarters_due)
    return f'<span class="state-{e(status)}">{e(word)}</span>'


def overview(
    report: Report,
    unit: Unit | None,
    periods: Sequence[Period],
    studies: Sequence[ActivityLine],
) -> tuple[str, str]:
    """The quarter or year at a glance: (title, body). `studies`: the period's study sessions,
    shown beside each unit's quota (one for every unit counts for each)."""
    title = report_title(report, unit)

    def behind(unit_id: int) -> str:
        found = [
            link(
                t(
                    "dash_study_link",
                    id=line.activity.id,
                    title=line.activity.title,
                    state=t(f"dash_state_{line.state}"),
                ),
                tab="activities",
                id=line.activity.id,
            )
            for line in studies
            if line.state != "cancelled" and line.activity.unit_id in (None, unit_id)
        ]
        return listing(found) or e(t("dash_none_short"))

    planned = any(line.plan.planned for line in report.units)
    units = table(
        t("dash_units_caption"),
        [
            t("dash_unit"),
            t("dash_study"),
            t("dash_study_activities"),
            *([t("dash_plan")] if planned else []),
            *tally_headers(),
        ],
        (
            [
                e(line.unit.name),
                _quota(report, line.study, line.study_held, line.study_quarters),
                behind(line.unit.id),
                *([e(execution_text(line.plan))] if planned else []),
                *tally_cells(line.tally),
            ]
            for line in report.units
        ),
    )
    committee = table(
        t("dash_committee_caption"),
        [t("dash_duty"), t("dash_state")],
        [
            [
                e(t("dash_meetings")),
                _quota(report, report.meetings, report.meetings_held, report.meeting_quarters),
            ],
            [
                e(t("dash_unity", year=report.period.year)),
                f'<span class="state-{e(report.unity)}">{e(t(STATUS_KEYS[report.unity]))}</span>',
            ],
            [
                e(t("dash_volunteering")),
                e(
                    t(
                        "dash_volunteering_figures",
                        people=report.volunteers,
                        times=report.volunteer_times,
                        hours=hours_text(report.volunteer_hours),
                    )
                ),
            ],
            [
                e(t("dash_notices_ack")),
                e(t("dash_notices_figures", count=report.notices, rate=percent(report.ack_rate))),
            ],
            [e(t("dash_total_attendance")), e(percent(report.total.rate))],
        ],
    )
    lacking = table(
        t("dash_lacking_caption"),
        [t("dash_activity"), t("dash_missing")],
        (
            [
                link(
                    f"#{item.activity.id} {item.activity.title}",
                    tab="activities",
                    id=item.activity.id,
                ),
                e(
                    t(
                        "lacking_both"
                        if item.minutes and item.photos
                        else ("lacking_minutes" if item.minutes else "lacking_photos")
                    )
                ),
            ]
            for item in report.lacking
        ),
    )
    panels = chart_panels(report)
    chart = (
        f'<figure class="chart" aria-describedby="units-table">{render_svg(title, panels)}'
        f"<figcaption>{e(t('dash_chart_caption'))}</figcaption></figure>"
    )
    by_quarter = table(
        t("chart_by_quarter", year=report.period.year),
        [t("dash_quarter"), *tally_headers()],
        (
            [e(t("chart_quarter", quarter=p.quarter)), *tally_cells(tally)]
            for p, tally in report.quarters
        ),
    )
    body = (
        filters("overview", [period_field(periods, report.period)])
        + f'<section id="units-table">{units}</section>'
        + committee
        + chart
        + by_quarter
        + lacking
    )
    return title, body


# ----------------------------------------------------------------------- activities


def activity_filters(
    periods: Sequence[Period],
    period: Period,
    units: Sequence[Unit],
    kind: str | None,
    unit_id: int | None,
    state: str | None,
) -> str:
    everything = ("", t("dash_all"))
    fields = [
        period_field(periods, period),
        _select("kind", t("dash_kind"), [everything, *((k, kind_name(k)) for k in KINDS)], kind),
    ]
    if len(units) > 1:
        fields.append(
            _select(
                "unit",
                t("dash_unit"),
                [everything, *((str(u.id), u.name) for u in units)],
                str(unit_id) if unit_id else None,
            )
        )
    states = [everything, *((s, t(f"dash_state_{s}")) for s in ACTIVITY_STATES)]
    fields.append(_select("state", t("dash_state"), states, state))
    return filters("activities", fields)


def activities(lines: Sequence[ActivityLine], zone: ZoneInfo, form: str) -> str:
    rows = (
        [
            link(
                f"#{line.activity.id} {line.activity.title}", tab="activities", id=line.activity.id
            ),
            e(kind_name(line.activity.kind)),
            e(line.activity.unit.name if line.activity.unit else t("dash_all_units")),
            e(when(line.activity, zone)),
            e(t(f"dash_state_{line.state}")),
            e(line.tally.present),
            e(line.tally.leave),
            e(line.tally.absent if line.state == "ended" else "–"),
            e(t("dash_yes") if line.activity.minutes else t("dash_no")),
            e(line.photos),
        ]
        for line in lines
    )
    caption = (
        t("dash_activities_caption_cut", count=len(lines))
        if len(lines) >= MAX_ROWS
        else t("dash_activities_caption", count=len(lines))
    )
    return form + table(
        caption,
        [
            t("dash_activity"),
            t("dash_kind"),
            t("dash_unit"),
            t("dash_when"),
            t("dash_state"),
            t("dash_present"),
            t("answer_leave"),
            t("answer_absent"),
            t("dash_minutes"),
            t("dash_photos"),
        ],
        rows,
    )


def roster(
    found: Roster, photos: int, zone: ZoneInfo, committee: bool, now: dt.datetime
) -> tuple[str, str]:
    """One activity's roster: who checked in (when), late, on leave (the reason for the
    committee), by 补签, absent, never registered; its minutes and photos."""
    activity = found.activity
    title = f"#{activity.id} {activity.title}"
    ended = now >= activity.ends_at
    rows: list[list[str]] = []
    for answer in found.present:
        member = answer.member
        status = "answer_makeup" if member.id in found.makeups else f"answer_{answer.status}"
        rows.append(
            [e(person_name(member)), _unit(member), e(t(status)), e(local_time(answer.at, zone))]
        )
    for answer in found.leave:
        reason = answer.reason if committee and answer.reason else ""
        rows.append(
            [
                e(person_name(answer.member)),
                _unit(answer.member),
                e(t("answer_leave")),
                e(reason),
            ]
        )
    for member in found.absent:
        if member.registered_at is None:
            status = "answer_unregistered"
        else:
            status = "answer_absent" if ended else "dash_not_yet"
        rows.append([e(person_name(member)), _unit(member), e(t(status)), ""])
    summary = e(
        t(
            "dash_roster_summary",
            when=when(activity, zone),
            kind=kind_name(activity.kind),
            present=len(found.present),
            late=found.late,
            leave=len(found.leave),
            absent=len(found.absent),
            pending=len(found.pending),
        )
    )
    records = e(
        t(
            "dash_records",
            minutes=t("dash_yes") if activity.minutes else t("dash_no"),
            photos=photos,
        )
    )
    body = (
        f"<p>{summary}</p><p>{records}</p>"
        + table(
            t("dash_roster_caption"),
            [t("dash_name"), t("dash_unit"), t("dash_state"), t("dash_detail")],
            rows,
        )
        + (
            f'<h2>{e(t("dash_minutes"))}</h2><p class="minutes">{e(activity.minutes)}</p>'
            if activity.minutes
            else ""
        )
        + f"<p>{link(t('dash_back'), tab='activities')}</p>"
    )
    return title, body


def _unit(member: Member) -> str:
    return e(member.unit.name if member.unit is not None else t("dash_no_unit"))


# ----------------------------------------------------------------------- notices


def notices(lines: Sequence[NoticeLine], zone: ZoneInfo, form: str) -> str:
    rows = (
        [
            link(f"#{line.notice.id}", tab="notices", id=line.notice.id),
            e(_first_line(line.notice.text)),
            e(month_day(line.notice.created_at, zone)),
            e(t("dash_ack_figures", acknowledged=line.acknowledged, expected=line.expected)),
            e(percent(line.acknowledged / line.expected if line.expected else None)),
        ]
        for line in lines
    )
    return form + table(
        t("dash_notices_caption", count=len(lines)),
        [t("dash_notice"), t("dash_text"), t("dash_sent"), t("dash_acknowledged"), t("dash_rate")],
        rows,
    )


def _first_line(text: str, limit: int = 40) -> str:
    first = (text or "").strip().splitlines()[0] if (text or "").strip() else ""
    return first if len(first) <= limit else first[: limit - 1] + "…"


def unacknowledged(found: Unacknowledged, can_chase: bool, zone: ZoneInfo) -> tuple[str, str]:
    notice_ = found.notice
    title = t("dash_notice_title", id=notice_.id)
    count = sum(len(people) for _, people in found.by_unit)
    rows = (
        [e(unit or t("dash_no_unit")), e(len(people)), e(listing(person_name(m) for m in people))]
        for unit, people in found.by_unit
    )
    chase = ""
    if can_chase and count:
        back = q(tab="notices", id=notice_.id)
        chase = action(
            back, {"do": "chase", "id": notice_.id}, button(t("dash_chase", count=count))
        )
    body = (
        f'<blockquote class="notice-text">{e(notice_.text)}</blockquote>'
        f"<p>{e(t('dash_sent_at', at=short_moment(notice_.created_at, zone)))}</p>"
        + table(
            t("dash_unacknowledged_caption", count=count),
            [t("dash_unit"), t("dash_count"), t("dash_names")],
            rows,
        )
        + chase
        + f"<p>{link(t('dash_back'), tab='notices')}</p>"
    )
    return title, body


# ----------------------------------------------------------------------- needs

NEED_STATUSES = needs_db.STATUSES


def _sender(line: needs_db.Line) -> str:
    if line.anonymous or line.name is None:
        return t("dash_anonymous")
    return t("dash_sender", name=line.name, unit=line.unit) if line.unit else line.name


def needs_board(
    columns: dict[str, tuple[int, list[needs_db.Line]]], category: str | None, zone: ZoneInfo
) -> str:
    choices = [("", t("dash_all")), *((c, category_name(c)) for c in needs_db.CATEGORIES)]
    form = filters("needs", [_select("category", t("dash_category"), choices, category)])
    sections = []
    for status in NEED_STATUSES:
        total, lines = columns[status]
        items = (
            "".join(
                "<li>"
                + link(f"#{line.id} {category_name(line.category)}", tab="needs", id=line.id)
                + f" <span>{e(month_day(line.created_at, zone))} · {e(_sender(line))}</span>"
                + f"<p>{e(_first_line(line.text, 60))}</p></li>"
                for line in lines
            )
            or f"<li>{e(t('dash_none'))}</li>"
        )
        more = f"<p>{e(t('dash_more', count=total - len(lines)))}</p>" if total > len(lines) else ""
        heading = e(t("dash_need_column", status=t(f"need_status_{status}"), count=total))
        sections.append(
            f'<section class="column"><h2>{heading}</h2><ul>{items}</ul>{more}</section>'
        )
    return form + f'<div class="board">{"".join(sections)}</div>'


def need_detail(
    line: needs_db.Line, events: Sequence[needs_db.Event], zone: ZoneInfo
) -> tuple[str, str]:
    title = t("dash_need_title", id=line.id, category=category_name(line.category))
    facts = e(
        t(
            "dash_need_facts",
            status=t(f"need_status_{line.status}"),
            at=short_moment(line.created_at, zone),
            sender=_sender(line),
        )
    )
    history = []
    for event in events:
        at = short_moment(event.at, zone)
        if event.kind == "reply":
            text = t("needs_history_reply", at=at, by=event.by or "", text=event.text)
        elif event.kind == "status":
            status = t(f"need_status_{event.text}")
            text = t("needs_history_status", at=at, status=status, by=event.by or "")
        else:
            text = t("dash_need_rated", at=at, rating=t(f"dash_rating_{event.text}"))
        history.append(f"<li>{e(text)}</li>")
    moves = "".join(
        button(t("dash_need_move", status=t(f"need_status_{s}")), "status", s)
        for s in NEED_STATUSES
        if s != "new" and s != line.status
    )
    back = q(tab="needs", id=line.id)
    legend = f"<legend>{e(t('dash_need_move_legend'))}</legend>"
    reply = (
        f'<label for="reply-text">{e(t("dash_need_reply_label"))}</label>'
        f'<textarea id="reply-text" name="text" rows="3" maxlength="{needs_db.MAX_TEXT}"'
        f" required></textarea>{button(t('dash_need_reply'))}"
    )
    fieldset = f"<fieldset>{legend}{moves}</fieldset>"
    events_html = "".join(history) or f"<li>{e(t('dash_none'))}</li>"
    body = (
        f"<p>{facts}</p><blockquote>{e(line.text)}</blockquote>"
        f"<h2>{e(t('dash_history'))}</h2><ol>{events_html}</ol>"
        + action(back, {"do": "need_status", "id": line.id}, fieldset)
        + action(back, {"do": "need_reply", "id": line.id}, reply)
        + f"<p>{link(t('dash_back'), tab='needs')}</p>"
    )
    return title, body


# ----------------------------------------------------------------------- me


def me(
    member: Member,
    year: int,
    quarters: Sequence[tuple[Period, Tally]],
    signups: Sequence[tuple[str, str, str]],
    hours: tuple[float, float],
    requests: Sequence[tuple[str, str, str]],
    certificates: Sequence[tuple[int, float]],
) -> tuple[str, str]:
    """My year: attendance by quarter, sign-ups and hours, certificates, pending requests."""
    title = t("dash_me_title", name=person_name(member))
    attendance = table(
        t("dash_me_attendance", year=year),
        [t("dash_quarter"), *tally_headers()],
        ([e(t("chart_quarter", quarter=p.quarter)), *tally_cells(tally)] for p, tally in quarters),
    )
    signup_table = table(
        t("dash_me_signups"),
        [t("dash_activity"), t("dash_when"), t("dash_state")],
        ([e(a), e(b), e(c)] for a, b, c in signups),
    )
    request_table = table(
        t("dash_me_requests"),
        [t("dash_activity"), t("dash_request"), t("dash_state")],
        ([e(a), e(b), e(c)] for a, b, c in requests),
    )
    certificate_rows = (
        [
            e(year),
            e(hours_text(total)),
            action(
                q(tab="me"),
                {"do": "certificate", "year": year},
                button(t("dash_send_certificate", year=year)),
            ),
        ]
        for year, total in certificates
    )
    body = (
        attendance
        + f'<p class="formula">{e(t("rate_formula"))}</p>'
        + f"<p>{e(t('dash_me_hours', year=hours_text(hours[0]), total=hours_text(hours[1])))}</p>"
        + signup_table
        + table(
            t("dash_me_certificates"),
            [t("dash_year"), t("dash_hours"), t("dash_action")],
            certificate_rows,
        )
        + request_table
    )
    return title, body


# ----------------------------------------------------------------------- tasks


def tasks_review(
    lines: Sequence[reviews_db.Line],
    units: dict[int, Unit],
    people: dict[int, Member],
    zone: ZoneInfo,
    form: str,
) -> tuple[str, str]:
    """评估问效: each task in each quarter, its state and what it rests on, who reported it
    and when, the note and how many files back it."""
    headers = [
        t("col_quarter"),
        t("col_task"),
        t("col_owner"),
        t("col_plan_state"),
        t("col_basis"),
        t("col_reporter"),
        t("col_reported_at"),
        t("col_note"),
        t("col_evidence"),
    ]
    rows = []
    for line in lines:
        task, reviewed = line.task, line.reviewed
        review = reviewed.review if reviewed is not None else None
        reporter = reviewed.reporter if reviewed is not None else None
        rows.append(
            [
                e(period_name(line.quarter)),
                e(f"#{task.id} {task.number or ''}{task.title}"),
                e(owner_text(task, units, people)),
                e(review_state(task, review, line.measured)),
                e(t(review_basis(review, line.measured))),
                e(person_name(reporter)) if reporter is not None else "",
                e(short_moment(review.reported_at, zone)) if review is not None else "",
                e(review.note or "") if review is not None else "",
                e(reviewed.evidence) if reviewed is not None else "0",
            ]
        )
    answered = sum(x.reviewed is not None or x.measured is not None for x in lines)
    summary = t("dash_tasks_answered", answered=answered, total=len(lines))
    body = form + f"<p>{e(summary)}</p>" + table(t("dash_tab_tasks"), headers, rows)
    return t("dash_tab_tasks"), body


# ----------------------------------------------------------------------- ledger


def ledger(periods: Sequence[Period], unit: Unit | None) -> tuple[str, str]:
    title = t("dash_tab_ledger")
    buttons = "".join(
        action(
            q(tab="ledger"),
            {"do": "ledger", "period": p.key},
            button(t("dash_ledger_button", period=period_name(p))),
        )
        for p in periods
    )
    scope = t("dash_ledger_unit", unit=unit.name) if unit is not None else t("dash_ledger_all")
    return title, f'<p>{e(scope)}</p><div class="buttons">{buttons}</div>'
