"""The story browser and story API (FastAPI): read-only over the story stores.

API (schema at ``/openapi.json``, browsable at ``/docs``):

* ``GET /api/stories?q=&outlet=&since=&limit=&cursor=``: stories, most recently updated first.
* ``GET /api/stories/{id}``: one story and its timeline, oldest first (a merged story
  answers with the story it went into).
* ``GET /api/alerts/stream``: the live alerts as Server-Sent Events (``AlertSource``).
* ``GET /healthz``.

Pages (Arabic, right to left, no script needed): ``/`` the story list with search and outlet
filter, ``/stories/{id}`` one story's timeline (a merged id redirects to its story). A small
script adds a notice when alerts arrive.

Errors are JSON with an ``error`` field: 401 without the token (``web.token``), 404 for an
unknown story, 422 for bad parameters, 503 when the store cannot be read; never a 500 with a
trace. Every text from an article is escaped by the templates (Jinja2 autoescape).
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime
from importlib import resources
from typing import Annotated, Any, Protocol
from urllib.parse import quote

import httpx
import uvicorn
from fastapi import Depends, FastAPI, HTTPException, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import (
    HTMLResponse,
    JSONResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, select_autoescape
from redis.exceptions import RedisError

from monitor.alerts.sse import AlertBroadcaster, format_event
from monitor.web.browse import (
    MAX_LIMIT,
    BadCursor,
    StoryBrowser,
    StoryDetail,
    StoryList,
    TimelineEntry,
)

__all__ = [
    "AlertSource",
    "BroadcasterSource",
    "RelaySource",
    "create_app",
    "serve",
]

log = logging.getLogger(__name__)

TOKEN_COOKIE = "monitor_token"
DECISION_LABELS = {
    "new_story": "قصة جديدة",
    "development": "تطور جديد",
    "no_news": "بلا جديد",
    "duplicate": "مكرر",
    "rejected": "مرفوض",
}
PAGE_SIZE = 30

# Query parameters (module level: FastAPI resolves the annotations by name).
Since = Annotated[
    datetime | None,
    Query(description="Only stories updated since (ISO 8601, or Unix seconds)."),
]
Words = Annotated[
    str | None, Query(max_length=200, description="Words or names the story is about.")
]
Outlet = Annotated[str | None, Query(max_length=100, description="Only stories it carried.")]
Cursor = Annotated[str | None, Query(max_length=300, description="`next` of a page.")]
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Stories per page.")]


class AlertSource(Protocol):
    def events(self, last_event_id: str | None) -> AsyncIterator[bytes]:
        """The SSE byte stream of live alerts (after ``last_event_id`` when given)."""
        ...


class BroadcasterSource:
    """Alerts of a dispatcher in this process (embedded: ``monitor run``, ``--replay``)."""

    def __init__(self, broadcaster: AlertBroadcaster, heartbeat_seconds: float = 15.0) -> None:
        self.broadcaster = broadcaster
        self.heartbeat = heartbeat_seconds

    async def events(self, last_event_id: str | None) -> AsyncIterator[bytes]:
        queue = self.broadcaster.subscribe()  # before replaying: nothing missed in between
        try:
            replayed = self.broadcaster.since(last_event_id)
            seen = {alert.id for alert in replayed}
            yield b"retry: 3000\n\n"
            for alert in replayed:
                yield format_event(alert)
            while True:
                try:
                    async with asyncio.timeout(self.heartbeat):
                        latest = await queue.get()
                except TimeoutError:
                    yield b": keep-alive\n\n"
                    continue
                if latest is None:
                    return
                if latest.id in seen:
                    seen.discard(latest.id)
                    continue
                yield format_event(latest)
        finally:
            self.broadcaster.unsubscribe(queue)


class RelaySource:
    """The dispatcher's stream (``monitor dispatch``, service mode), relayed as it comes."""

    def __init__(self, url: str) -> None:
        self.url = url

    async def events(self, last_event_id: str | None) -> AsyncIterator[bytes]:
        headers = {"Last-Event-ID": last_event_id} if last_event_id else {}
        timeout = httpx.Timeout(10.0, read=None)
        try:
            async with (
                httpx.AsyncClient(timeout=timeout) as client,
                client.stream("GET", self.url, headers=headers) as upstream,
            ):
                if upstream.status_code != 200:
                    log.warning("alert stream %s answered %s", self.url, upstream.status_code)
                    yield b"retry: 5000\n: alert stream unavailable\n\n"
                    return
                async for chunk in upstream.aiter_raw():
                    yield chunk
        except httpx.HTTPError as error:
            log.warning("alert stream %s unreachable: %s", self.url, error)
            yield b"retry: 5000\n: alert stream unavailable\n\n"


def _templates() -> Jinja2Templates:
    folder = resources.files("monitor.web") / "templates"
    environment = Environment(
        loader=FileSystemLoader(str(folder)),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.globals["labels"] = DECISION_LABELS
    environment.filters["when"] = _when
    environment.filters["link"] = _link
    return Jinja2Templates(env=environment)


def _when(value: datetime | None) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M") if value is not None else "—"


def _link(url: str | None) -> str | None:
    """``url`` if it is a web address (escaping alone would let ``javascript:`` through)."""
    if url and url.lower().startswith(("http://", "https://")):
        return url
    return None


def _chart(timeline: list[TimelineEntry], width: int = 600, height: int = 80) -> dict[str, Any]:
    """Articles over time as bars (server-side SVG: no script): a bucket per hour, six hours
    or day, whichever gives at most 48 bars."""
    times = sorted(e.published for e in timeline if e.published is not None)
    if not times:
        return {"bars": [], "width": width, "height": height}
    span = (times[-1] - times[0]).total_seconds()
    step = next((s for s in (3600, 6 * 3600, 86_400, 7 * 86_400) if span / s < 48), 30 * 86_400)
    start = times[0].timestamp() // step * step
    counts: dict[int, int] = {}
    for at in times:
        bucket = int((at.timestamp() - start) // step)
        counts[bucket] = counts.get(bucket, 0) + 1
    buckets = max(counts) + 1
    top = max(counts.values())
    bar = width / buckets
    bars = [
        {
            "x": round(width - (i + 1) * bar, 1),  # right to left, as the page reads
            "w": round(max(bar - 2, 1), 1),
            "h": round(count / top * (height - 14), 1),
            "count": count,
            "label": _when(datetime.fromtimestamp(start + i * step, UTC)),
        }
        for i, count in sorted(counts.items())
    ]
    unit = {3600: "ساعة", 6 * 3600: "ست ساعات", 86_400: "يوم"}.get(step, "أسبوع")
    return {"bars": bars, "width": width, "height": height, "unit": unit}


def create_app(
    browser: StoryBrowser,
    *,
    token: str | None = None,
    alerts: AlertSource | None = None,
    title: str = "متابعة الأخبار",
) -> FastAPI:
    """The web app over ``browser``; ``token``: required of every request but ``/healthz``."""
    templates = _templates()
    token = token or None  # an empty setting is no token

    async def authorize(request: Request) -> None:
        if token is None or request.url.path == "/healthz":
            return
        offered = request.cookies.get(TOKEN_COOKIE, "")
        header = request.headers.get("authorization", "")
        if header.lower().startswith("bearer "):
            offered = header[7:].strip()
        if not hmac.compare_digest(offered.encode(), token.encode()):
            raise HTTPException(
                401, "a valid bearer token is required", headers={"WWW-Authenticate": "Bearer"}
            )

    app = FastAPI(
        title="Arabic news monitor: stories",
        version="1",
        description="Stories the monitor follows and their timelines (read only).",
        dependencies=[Depends(authorize)],
    )

    @app.middleware("http")
    async def token_from_link(request: Request, call_next: Callable[[Request], Any]) -> Any:
        # A page link carrying ?token= (from an operator) sets the cookie pages use after it,
        # and is redirected without the token, so it does not stay in history or logs.
        offered = request.query_params.get("token")
        if token is not None and offered is not None and not request.url.path.startswith("/api/"):
            target = request.url.remove_query_params("token")
            response = RedirectResponse(
                str(target.path) + (f"?{target.query}" if target.query else ""), 303
            )
            if hmac.compare_digest(offered.encode(), token.encode()):
                response.set_cookie(TOKEN_COOKIE, token, httponly=True, samesite="strict")
            return response
        return await call_next(request)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, error: HTTPException) -> Response:
        headers = getattr(error, "headers", None)
        if _wants_page(request) and error.status_code == 404:
            return templates.TemplateResponse(
                request, "error.html", {"title": title, "message": error.detail}, status_code=404
            )
        return JSONResponse({"error": error.detail}, status_code=error.status_code, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def invalid(_request: Request, error: RequestValidationError) -> Response:
        problems = [
            {"parameter": ".".join(str(p) for p in problem["loc"][1:]), "message": problem["msg"]}
            for problem in error.errors()
        ]
        return JSONResponse({"error": "invalid request", "problems": problems}, status_code=422)

    @app.exception_handler(RedisError)
    async def store_down(_request: Request, error: RedisError) -> Response:
        log.warning("story store unreadable: %s", error)
        return JSONResponse({"error": "story store unavailable"}, status_code=503)

    async def listing(
        q: str | None, outlet: str | None, since: datetime | None, limit: int, cursor: str | None
    ) -> StoryList:
        try:
            return await browser.stories(
                q=q,
                outlet=outlet or None,
                since=since.timestamp() if since is not None else None,
                limit=limit,
                cursor=cursor or None,
            )
        except BadCursor:
            raise HTTPException(422, "cursor: not one this API handed out") from None

    @app.get("/api/stories", response_model=StoryList, tags=["stories"])
    async def api_stories(
        q: Words = None,
        outlet: Outlet = None,
        since: Since = None,
        limit: Limit = 50,
        cursor: Cursor = None,
    ) -> StoryList:
        """Stories, most recently updated first."""
        return await listing(q, outlet, since, limit, cursor)

    @app.get(
        "/api/stories/{story_id}",
        response_model=StoryDetail,
        tags=["stories"],
        responses={404: {"description": "No such story (or it expired)."}},
    )
    async def api_story(story_id: str) -> StoryDetail:
        """The story and its timeline, oldest first; a merged story answers with its new id."""
        found = await browser.story(story_id)
        if found is None:
            raise HTTPException(404, f"no story {story_id}")
        return found

    @app.get(
        "/api/alerts/stream",
        tags=["alerts"],
        response_class=StreamingResponse,
        responses={200: {"content": {"text/event-stream": {}}}},
    )
    async def api_alerts(request: Request, last_event_id: str | None = None) -> StreamingResponse:
        """Live alerts as Server-Sent Events (``id``: alert id, ``event``: its kind,
        ``data``: the alert JSON); ``Last-Event-ID`` resumes after an alert."""
        if alerts is None:
            raise HTTPException(404, "no alert stream here")
        resume = request.headers.get("last-event-id") or last_event_id
        return StreamingResponse(
            alerts.events(resume),
            media_type="text/event-stream; charset=utf-8",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    async def page_list(
        request: Request,
        q: Words = None,
        outlet: Outlet = None,
        since: Since = None,
        cursor: Cursor = None,
    ) -> Response:
        found = await listing(q, outlet, since, PAGE_SIZE, cursor)
        return templates.TemplateResponse(
            request,
            "stories.html",
            {"title": title, "found": found, "q": q or "", "outlet": outlet or "",
             "live": alerts is not None},
        )  # fmt: skip

    @app.get("/stories/{story_id}", response_class=HTMLResponse, include_in_schema=False)
    async def page_story(request: Request, story_id: str) -> Response:
        found = await browser.story(story_id)
        if found is None:
            raise HTTPException(404, f"no story {story_id}")
        if found.id != story_id:  # merged into another story: that is its page now
            return RedirectResponse(f"/stories/{quote(found.id)}", status_code=301)
        return templates.TemplateResponse(
            request,
            "story.html",
            {"title": title, "story": found, "chart": _chart(found.timeline),
             "live": alerts is not None},
        )  # fmt: skip

    return app


class _Server(uvicorn.Server):
    """uvicorn without its signal handlers: the command's own stop event ends it."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def _wants_page(request: Request) -> bool:
    return not request.url.path.startswith("/api/") and "text/html" in request.headers.get(
        "accept", ""
    )


async def serve(app: FastAPI, host: str, port: int, stop: asyncio.Event) -> None:
    """Serve ``app`` until ``stop`` is set."""
    server = _Server(uvicorn.Config(app, host=host, port=port, log_level="warning", lifespan="off"))
    task = asyncio.create_task(server.serve())
    stopper = asyncio.create_task(stop.wait())
    try:
        await asyncio.wait([task, stopper], return_when=asyncio.FIRST_COMPLETED)
    finally:
        server.should_exit = True
        stopper.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
