"""The committee's dashboard, a Telegram Mini App: /dashboard opens it; its pages are served
under /app/ by the bot's own HTTP server (bot.web).

Every request carries the Mini App's signed initData (`Authorization: tma <initData>`); the
signature and its age are checked (handlers.webauth), then the person's membership and role
are read from the database, on every request: the committee sees everything, a unit's lead
their unit, a member their own page. No valid initData: 401 and nothing else.

A page is HTML made on the server (render.dashboard) from the same `db/` operations as the
commands; an action (a need moved on or answered, a notice chased, a ledger or certificate
asked for) runs the commands' own operations, with their refusals, in one transaction, and
what it sends goes through the outbox or the same background builds.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
from collections.abc import Awaitable, Callable
from importlib import resources
from urllib.parse import parse_qsl

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, WebAppInfo
from telegram.error import TelegramError
from telegram.ext import CommandHandler

from db import approvals as approvals_db
from db import certificates as certificates_db
from db import dashboard as dashboard_db
from db import members as members_db
from db import needs as needs_db
from db import reports as reports_db
from db import reviews as reviews_db
from db import rules
from db import volunteer as volunteer_db
from db.dashboard import Viewer
from db.errors import Refusal, unavailable
from db.models import KINDS, Unit
from db.rules import Period
from handlers import certificates as certificates_handlers
from handlers import needs as needs_handlers
from handlers import notices as notices_handlers
from handlers.context import Ctx, Handlers, private_button
from handlers.menus import dashboard_button
from handlers.runner import handler, render_refusal
from handlers.webauth import InvalidInitData, WebAppUser, validate
from render import dashboard as pages
from render.formats import period_name, when
from render.texts import speaking, t, t_in
from scheduler import notices as notices_sched
from scheduler import reports as reports_sched
from scheduler.services import Services

log = logging.getLogger(__name__)

PREFIX = "/app/"
AUTH_SCHEME = "tma "
STATIC = {"app.js": "application/javascript", "app.css": "text/css"}
# Only our own script (and Telegram's) runs; pages talk only to us; Telegram's web client may
# frame the page. Pages are HTML made here with every value escaped; this is the second fence.
HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self' https://telegram.org; style-src 'self'; "
        "img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'; "
        "frame-ancestors https://web.telegram.org https://*.telegram.org"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
MAX_FORM_BYTES = 16 * 1024
NEEDS_PER_COLUMN = 30


# ----------------------------------------------------------------------- /dashboard


@handler()
async def dashboard(ctx: Ctx) -> None:
    """Privately: a button that opens the dashboard; in a group: where to find it."""
    url = ctx.services.settings.webapp_url
    if url is None:
        ctx.reply(t("dashboard_off"))
        return
    if not ctx.in_private and not ctx.member.can_dm:
        # Telegram opens a Mini App's button only in a private chat.
        ctx.reply(t("dashboard_in_private"), markup=private_button(ctx))
        return
    with ctx.privately():
        button = InlineKeyboardButton(t("dashboard_open"), web_app=WebAppInfo(url))
        ctx.reply(t("dashboard_intro"), markup=InlineKeyboardMarkup([[button]]), private=True)
    if ctx.is_admin or ctx.member.lead_unit_id is not None:  # and in the chat's menu
        bot, chat, language = ctx.context.bot, ctx.member.telegram_id, ctx.member.lang
        ctx.after_commit(lambda: dashboard_button(bot, chat, url, True, language))


def handlers() -> Handlers:
    return [CommandHandler("dashboard", dashboard)]


# ----------------------------------------------------------------------- the web app


class Answer(Exception):
    """A request answered with a status and a short text (no page)."""

    def __init__(self, status: int, text: str) -> None:
        super().__init__(text)
        self.status = status
        self.text = text


class Dashboard:
    """The /app/ routes of the bot's HTTP server."""

    def __init__(self, services: Services, bot: Bot) -> None:
        self._services = services
        self._bot = bot
        self._closing = False

    def add_routes(self, app: web.Application) -> None:
        app.router.add_get("/app", self._to_shell)
        app.router.add_get(PREFIX, self._shell)
        app.router.add_get(PREFIX + "static/{name}", self._static)
        app.router.add_get(PREFIX + "api/page", self._page)
        app.router.add_post(PREFIX + "api/action", self._action)

    # -------------------------------------------------------------- static parts
    async def _to_shell(self, _request: web.Request) -> web.Response:
        raise web.HTTPMovedPermanently(PREFIX)

    async def _shell(self, _request: web.Request) -> web.Response:
        return web.Response(
            text=_asset("index.html"),
            content_type="text/html",
            headers={**HEADERS, "Cache-Control": "no-cache"},
        )

    async def _static(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        if name not in STATIC:
            raise web.HTTPNotFound()
        return web.Response(
            text=_asset(name),
            content_type=STATIC[name],
            headers={**HEADERS, "Cache-Control": "no-cache"},
        )

    # -------------------------------------------------------------- who is asking
    def _user(self, request: web.Request) -> WebAppUser:
        header = request.headers.get("Authorization", "")
        if not header.startswith(AUTH_SCHEME):
            raise Answer(401, "unauthorized")
        try:
            return validate(
                header[len(AUTH_SCHEME) :].strip(),
                self._services.settings.bot_token,
                self._services.now(),
            )
        except InvalidInitData as exc:
            log.info("dashboard: initData refused (%s) from %s", exc, request.remote)
            raise Answer(401, "unauthorized") from None

    async def _viewer(self, session: AsyncSession, user: WebAppUser) -> Viewer:
        found = await dashboard_db.viewer(session, user.id, self._services.settings.admin_ids)
        if found is None:
            language = rules.language_of(user.language_code)
            with speaking(language):
                raise Answer(403, t("dashboard_not_member"))
        return found

    # -------------------------------------------------------------- pages and actions
    def close(self) -> None:
        """The bot is stopping: pages are still shown, actions are declined (what they would
        start could not finish)."""
        self._closing = True

    async def _page(self, request: web.Request) -> web.Response:
        return await self._serve(request, dict(request.query))

    async def _action(self, request: web.Request) -> web.Response:
        """Do what the form asks in one transaction, then show the page it came from, with
        what happened (or why nothing did) on top."""
        user: WebAppUser | None = None
        try:
            user = self._user(request)  # before reading anything the request carries
            form = await _form(request)
            if self._closing:
                raise Answer(503, t_in(rules.language_of(user.language_code), "busy"))
            async with self._services.db.session() as session:
                viewer = await self._viewer(session, user)
                member_id, language = viewer.member.id, self._language(viewer, user)
                with speaking(language):
                    try:
                        done: Done | Refusal = await self._act(session, viewer, form)
                    except Refusal as refusal:
                        done = refusal
                        await session.rollback()
                    else:
                        await session.commit()
        except Exception as exc:
            return self._failed(exc, user)
        with speaking(language):
            if isinstance(done, Refusal):  # shown once the write session is over
                shown = pages.notice(render_refusal(done), alert=True)
                return await self._serve(request, dict(request.query), shown, 400)
            shown = pages.notice(done.text)
        if done.after is not None:  # one build at a time per person, as for /export
            self._services.builds.start(member_id, done.after)
        self._services.outbox.wake()
        return await self._serve(request, dict(request.query), shown)

    async def _serve(
        self, request: web.Request, query: dict[str, str], shown: str = "", status: int = 200
    ) -> web.Response:
        """A page, read afresh: who is asking, then what they may see."""
        user: WebAppUser | None = None
        try:
            user = self._user(request)
            async with self._services.db.read_session() as session:
                viewer = await self._viewer(session, user)
                with speaking(self._language(viewer, user)):
                    found, body = await self._render(session, viewer, query, shown)
        except Exception as exc:
            return self._failed(exc, user)
        return _html(body, max(status, found))

    @staticmethod
    def _language(viewer: Viewer, user: WebAppUser) -> str:
        return viewer.member.lang or rules.language_of(user.language_code)

    @staticmethod
    def _failed(exc: Exception, user: WebAppUser | None) -> web.Response:
        """A request answered short (401, 403, 413…) or the database unavailable (503, in
        the person's language); anything else is our bug and is raised."""
        if isinstance(exc, Answer):
            return _html(exc.text, exc.status, page=False)
        if not unavailable(exc):
            raise exc
        log.warning("dashboard: database unavailable (%s)", type(exc).__name__)
        language = rules.language_of(user.language_code if user is not None else None)
        return _html(t_in(language, "busy"), 503, page=False)

    async def _render(
        self,
        session: AsyncSession,
        viewer: Viewer,
        query: dict[str, str],
        shown: str = "",
    ) -> tuple[int, str]:
        """(status, page): 403 for a page this person may not open, 400 for what cannot be
        shown as asked (an unknown number, a period not understood); the page says why."""
        tab = query.get("tab") or viewer.pages[0]
        if tab not in dashboard_db.PAGES:
            tab = viewer.pages[0]
        status = 200
        try:
            if tab not in viewer.pages:
                status = 403
            viewer.require(tab)
            title, body = await self._build(session, viewer, tab, query)
        except Refusal as refusal:
            status = max(status, 400)
            title, body = t(pages.TAB_KEYS[tab]), pages.notice(render_refusal(refusal), alert=True)
        return status, pages.page(viewer.pages, tab, title, shown + body)

    async def _build(
        self, session: AsyncSession, viewer: Viewer, tab: str, query: dict[str, str]
    ) -> tuple[str, str]:
        services = self._services
        zone, now = services.settings.timezone, services.now()
        today = rules.local_today(now, zone)
        period = rules.parse_period(query.get("period") or None, today)
        periods = choices(today, period)
        item = _id(query.get("id"))
        scope = viewer.scope
        if tab == "overview":
            # On PostgreSQL a second connection reads in parallel; SQLite's would take turns.
            aside = None if services.db.is_sqlite else services.db.read_session
            report = await reports_db.build(session, period, zone, now, unit=scope, aside=aside)
            studies = await dashboard_db.activities(
                session, now, period.bounds(zone), scope=scope, kind="study", counts=False
            )
            return pages.overview(report, scope, periods, studies)
        if tab == "activities":
            if item is not None:
                found = await dashboard_db.roster(session, item, viewer)
                photos = await dashboard_db.photos(session, item)
                return pages.roster(found, photos, zone, viewer.committee, now)
            kind = query.get("kind") or None
            state = query.get("state") or None
            unit_id = _id(query.get("unit")) if scope is None else None
            if kind is not None and kind not in KINDS:
                kind = None
            if state is not None and state not in dashboard_db.ACTIVITY_STATES:
                state = None
            units = await members_db.list_units(session) if scope is None else [scope]
            lines = await dashboard_db.activities(
                session,
                now,
                period.bounds(zone),
                scope=scope,
                kind=kind,
                unit_id=unit_id,
                state=state,
            )
            form = pages.activity_filters(periods, period, units, kind, unit_id, state)
            return t("dash_tab_activities"), pages.activities(lines, zone, form)
        if tab == "notices":
            if item is not None:
                missing = await dashboard_db.unacknowledged(session, item, scope)
                return pages.unacknowledged(missing, viewer.committee, zone)
            sent = await dashboard_db.notices(session, period.bounds(zone), scope)
            form = pages.filters("notices", [pages.period_field(periods, period)])
            return t("dash_tab_notices"), pages.notices(sent, zone, form)
        if tab == "needs":
            if item is not None:
                line = await needs_db.line(session, item)
                events = await needs_db.history(session, item)
                return pages.need_detail(line, events, zone)
            category = query.get("category") or None
            if category is not None and category not in needs_db.CATEGORIES:
                category = None
            columns = {
                status: await needs_db.listing(
                    session, statuses=(status,), category=category, limit=NEEDS_PER_COLUMN
                )
                for status in needs_db.STATUSES
            }
            return t("dash_tab_needs"), pages.needs_board(columns, category, zone)
        if tab == "me":
            return await self._me(session, viewer, today)
        if tab == "tasks":
            form = pages.filters("tasks", [pages.period_field(periods, period)])
            return await self._tasks(session, scope, period, today, form)
        return pages.ledger(choices(today), scope)

    async def _tasks(
        self, session: AsyncSession, scope: Unit | None, period: Period, today: dt.date, form: str
    ) -> tuple[str, str]:
        """工作要点: the review of the period's quarters begun so far (a lead's: their unit's
        tasks)."""
        zone, now = self._services.settings.timezone, self._services.now()
        quarters = [period.quarter] if period.quarter else [1, 2, 3, 4]
        begun = [n for n in quarters if Period(period.year, n).days()[0] <= today]
        lines = await reviews_db.table(
            session,
            period.year,
            begun,
            zone,
            now,
            self._services.reminders.calendar.add_workdays,
            unit_id=scope.id if scope is not None else None,
        )
        units = {u.id: u for u in await members_db.list_units(session)}
        people = await members_db.by_ids(session, [x.task.owner_member_id for x in lines])
        return pages.tasks_review(lines, units, people, zone, form)

    async def _me(self, session: AsyncSession, viewer: Viewer, today: dt.date) -> tuple[str, str]:
        zone, now, member = self._services.settings.timezone, self._services.now(), viewer.member
        quarters = []
        for quarter in Period(today.year).quarters():
            start, end = quarter.bounds(zone)
            if start > now:
                break
            found = await reports_db.tallies_by_member(
                session, start, end, now, member_id=member.id
            )
            quarters.append((quarter, found.get(member.id, reports_db.Tally())))
        signups = [
            (
                f"#{activity.id} {activity.title}",
                when(activity, zone),
                t("me_confirmed") if status == "confirmed" else t("me_waitlisted", position=place),
            )
            for activity, status, place in await volunteer_db.my_signups(session, member, now)
        ]
        certificates: list[tuple[int, float]] = []
        for year in (today.year, today.year - 1):
            start, end = Period(year).bounds(zone)
            credited = await volunteer_db.credits(session, now, start, end, member.id)
            hours = sum(credited.values(), 0.0)
            if hours or year == today.year:
                certificates.append((year, hours))
        total = sum((await volunteer_db.credits(session, now, member_id=member.id)).values(), 0.0)
        year_start, year_end = Period(today.year).bounds(zone)
        requests = [
            (
                f"#{activity.id} {activity.title}",
                t(f"approval_kind_{approval.kind}"),
                t(f"approval_status_{approval.status}"),
            )
            for approval, activity in await approvals_db.of_member(
                session, member.id, year_start, year_end
            )
            if approval.status == "pending"
        ]
        year_hours = certificates[0][1]
        return pages.me(
            member, today.year, quarters, signups, (year_hours, total), requests, certificates
        )

    # -------------------------------------------------------------- actions
    async def _act(self, session: AsyncSession, viewer: Viewer, form: dict[str, str]) -> Done:
        services, what = self._services, form.get("do", "")
        now, zone = services.now(), services.settings.timezone
        member = viewer.member
        if what in ("need_status", "need_reply", "chase") and not viewer.committee:
            raise Refusal("not_admin")
        if what == "need_status":
            status = form.get("status", "")
            if status not in needs_db.STATUSES or status == "new":
                raise Refusal("needs_status_usage")
            need_ = await needs_handlers.move(session, _required_id(form), status, member, now)
            word = t(f"need_status_{status}")
            return Done(t("needs_status_set", id=need_.id, status=word, rate=""))
        if what == "need_reply":
            text = needs_db.clean_text(form.get("text", ""))
            need_ = await needs_handlers.reply(session, _required_id(form), member, text, now)
            return Done(t("needs_replied", id=need_.id))
        if what == "chase":
            followup = await notices_sched.chase(session, _required_id(form), now)
            return Done(notices_handlers.chased(followup))
        if what in ("ledger", "certificate") and services.builds.busy(member.id):
            raise Refusal("build_running")
        if what == "ledger":
            viewer.require("ledger")
            today = rules.local_today(now, zone)
            period = rules.parse_period(form.get("period") or None, today)
            return Done(
                t("dash_ledger_sent", period=period_name(period)), self._ledger(viewer, period)
            )
        if what == "certificate":
            year = certificates_db.parse_year(form.get("year"), rules.local_today(now, zone))
            send = await certificates_handlers.issue(session, member, year, zone, now, self._bot)
            return Done(t("dash_certificate_sent", year=year), send)
        raise Refusal("dash_unknown_action")

    def _ledger(self, viewer: Viewer, period: Period) -> Callable[[], Awaitable[None]]:
        """The same background build as /export, sent privately."""
        services, bot = self._services, self._bot
        chat, unit, language = viewer.member.chat_id, viewer.scope, viewer.member.lang

        async def send() -> None:
            with speaking(language):
                try:
                    await reports_sched.send_ledger(
                        bot, chat, services.db, services.settings, services.now(), period, unit
                    )
                except TelegramError as exc:
                    log.warning("dashboard ledger not sent: %s", exc)

        return send


class Done:
    """What an action says on the page, and what it does once committed."""

    def __init__(self, text: str, after: Callable[[], Awaitable[None]] | None = None) -> None:
        self.text = text
        self.after = after


def choices(today: dt.date, chosen: Period | None = None) -> list[Period]:
    """The periods offered: this year's quarters so far and the year, then last year's (and
    the one asked for, when it is none of those)."""
    this_year = [q for q in Period(today.year).quarters() if q.days()[0] <= today]
    last = Period(today.year - 1)
    offered = [*reversed(this_year), Period(today.year), *reversed(last.quarters()), last]
    return offered if chosen is None or chosen in offered else [chosen, *offered]


def _id(raw: str | None) -> int | None:
    if raw is None or not raw.isascii() or not raw.isdecimal() or len(raw) > 9:
        return None
    return int(raw)


def _required_id(form: dict[str, str]) -> int:
    found = _id(form.get("id"))
    if found is None:
        raise Refusal("dash_unknown_action")
    return found


def _html(body: str, status: int, *, page: bool = True) -> web.Response:
    return web.Response(
        text=body if page else pages.notice(body, alert=status >= 400),
        status=status,
        content_type="text/html",
        headers={**HEADERS, "Cache-Control": "no-store"},
    )


async def _form(request: web.Request) -> dict[str, str]:
    """The action's fields: a small urlencoded form, read only up to MAX_FORM_BYTES."""
    if request.content_type != "application/x-www-form-urlencoded":
        raise Answer(415, "unsupported media type")
    body = await request.content.read(MAX_FORM_BYTES + 1)
    if len(body) > MAX_FORM_BYTES:
        raise Answer(413, "too large")
    try:
        pairs = parse_qsl(body.decode(), keep_blank_values=True, max_num_fields=16)
    except (UnicodeDecodeError, ValueError):
        raise Answer(400, "bad form") from None
    return dict(pairs)


@functools.cache
def _asset(name: str) -> str:
    """The shell's files, read once."""
    return resources.files("render").joinpath("webapp", name).read_text(encoding="utf-8")
