"""The story API: answers, errors, token, merged stories, paging; over memory and real Redis."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
import redis.asyncio as aioredis
from fastapi import FastAPI

from monitor.alerts.sse import AlertBroadcaster
from monitor.commands.web import replay_into
from monitor.core.records import Alert, Decision
from monitor.core.stories import index_keys
from monitor.settings import Settings
from monitor.stores.stories import MemoryStoryStore, WriteBehindStoryStore
from monitor.web.app import BroadcasterSource, create_app
from monitor.web.browse import MemoryStoryBrowser, RedisStoryBrowser
from tests.stores.test_stories import DAY, story
from tests.stores.test_timelines import decision

SEEDS = Path(__file__).resolve().parents[1] / "data" / "seeds.jsonl"


def client_of(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://web")


@pytest.fixture(scope="module")
async def replayed() -> tuple[MemoryStoryStore, AlertBroadcaster]:
    broadcaster = AlertBroadcaster()
    return await replay_into([SEEDS], Settings(), broadcaster), broadcaster


async def test_seeds_story_and_errors(replayed: tuple[MemoryStoryStore, AlertBroadcaster]) -> None:
    store, _ = replayed
    async with client_of(create_app(MemoryStoryBrowser(store))) as web:
        listed = (await web.get("/api/stories")).json()
        assert len(listed["stories"]) == 1 and listed["next"] is None
        first = listed["stories"][0]
        assert first["articles"] >= 4 and first["developments"] >= 1
        detail = (await web.get(f"/api/stories/{first['id']}")).json()
        assert len(detail["timeline"]) == 5
        published = [entry["published"] for entry in detail["timeline"]]
        assert published == sorted(published)
        assert detail["timeline"][0]["decision"] == "new_story"
        assert [s["id"] for s in (await web.get("/api/stories?q=بوتين")).json()["stories"]] == [
            first["id"]
        ]
        assert (await web.get("/api/stories?q=الزمالك")).json()["stories"] == []
        assert (await web.get("/api/stories?outlet=vetogate")).json()["stories"]
        assert (await web.get("/api/stories?outlet=nobody")).json()["stories"] == []
        assert (await web.get("/api/stories?since=2030-01-01T00:00:00Z")).json()["stories"] == []

        missing = await web.get("/api/stories/no-such-story")
        assert missing.status_code == 404 and missing.json() == {"error": "no story no-such-story"}
        for bad in ("since=yesterday", "limit=0", "limit=100000", "cursor=nonsense"):
            answer = await web.get(f"/api/stories?{bad}")
            assert answer.status_code == 422, bad
            assert "error" in answer.json()
        schema = (await web.get("/openapi.json")).json()
        assert {"/api/stories", "/api/stories/{story_id}", "/api/alerts/stream"} <= set(
            schema["paths"]
        )
        page = await web.get(f"/stories/{first['id']}")
        assert page.status_code == 200 and '<html lang="ar" dir="rtl">' in page.text


async def test_token_guards_api_and_pages(
    replayed: tuple[MemoryStoryStore, AlertBroadcaster],
) -> None:
    store, _ = replayed
    async with client_of(create_app(MemoryStoryBrowser(store), token="s3cret")) as web:
        assert (await web.get("/healthz")).status_code == 200
        refused = await web.get("/api/stories")
        assert refused.status_code == 401 and refused.json()["error"]
        assert (
            await web.get("/api/stories", headers={"Authorization": "Bearer nope"})
        ).status_code == 401
        ok = await web.get("/api/stories", headers={"Authorization": "Bearer s3cret"})
        assert ok.status_code == 200
        assert (await web.get("/")).status_code == 401
        # A link with the token sets the pages' cookie and drops the token from the address.
        link = await web.get("/?token=s3cret")
        assert link.status_code == 303 and link.headers["location"] == "/"
        assert (await web.get("/")).status_code == 200


async def test_merged_story_answers_with_its_new_id() -> None:
    store = MemoryStoryStore()
    kept, _ = story("s1", "زيارة", "زيارة الرئيس", 0.0)
    gone, _ = story("s2", "زيارة", "زيارة الوزير", 0.0)
    for state in (kept, gone):
        await store.save(state, keys=[], articles=[], retention=DAY,
                         timeline=[decision(f"{state.id}-a", "new_story", 9, sid=state.id)])  # fmt: skip
    store.merged["s2"] = "s1"
    await store.merge_timelines("s2", "s1")
    async with client_of(create_app(MemoryStoryBrowser(store))) as web:
        answer = (await web.get("/api/stories/s2")).json()
        assert answer["id"] == "s1" and len(answer["timeline"]) == 2
        page = await web.get("/stories/s2")
        assert page.status_code == 301 and page.headers["location"] == "/stories/s1"
        assert [s["id"] for s in (await web.get("/api/stories")).json()["stories"]] == ["s1"]


async def test_alert_stream_replays_after_last_event_id() -> None:
    broadcaster = AlertBroadcaster()
    first, second = (
        Alert(
            id=f"a{i}", kind="new_story", story="s", story_title="<b>t</b>", article="x", outlet="o"
        )
        for i in (1, 2)
    )
    broadcaster.publish(first)
    broadcaster.publish(second)
    source = BroadcasterSource(broadcaster, heartbeat_seconds=0.05)
    events = source.events("a1")
    assert await anext(events) == b"retry: 3000\n\n"
    assert (await anext(events)).startswith(b"id: a2\nevent: new_story\ndata: ")
    broadcaster.publish(
        Alert(id="a3", kind="development", story="s", story_title="t", article="y", outlet="o")
    )
    assert (await anext(events)).startswith(b"id: a3\n")
    assert await anext(events) == b": keep-alive\n\n"
    await events.aclose()
    assert broadcaster.clients == 0


@pytest.mark.integration
async def test_redis_pages_search_and_merges(redis_client: aioredis.Redis) -> None:
    prefix = f"t-{uuid.uuid4().hex[:6]}:"
    store = WriteBehindStoryStore(redis_client, prefix)
    for i in range(25):
        state, _ = story(f"s{i:02d}", "زيارة بوتين" if i % 5 == 0 else "مباراة الأهلي", "نص", 0.0)
        state.updated = 1000.0 + (i // 2)  # pairs updated at the same time: ties in the cursor
        outlet = "x" if i % 3 == 0 else "o"
        await store.save(state, keys=index_keys(state), articles=[f"a{i}"], retention=DAY,
                         timeline=[decision(f"a{i}", "new_story", 9, outlet=outlet, sid=state.id)])  # fmt: skip
    await store.flush()
    await redis_client.set(f"{prefix}story:merged:s24", "s20", ex=60)
    async with client_of(create_app(RedisStoryBrowser(redis_client, prefix))) as web:
        seen: list[str] = []
        cursor = ""
        while True:
            page = (await web.get("/api/stories", params={"limit": 4, "cursor": cursor})).json()
            seen += [s["id"] for s in page["stories"]]
            if page["next"] is None:
                break
            cursor = page["next"]
        expected = sorted(
            (f"s{i:02d}" for i in range(24)),
            key=lambda s: (1000 + int(s[1:]) // 2, s),
            reverse=True,
        )
        assert seen == expected  # s24 is merged: listed as s20 only
        outlet_x = (await web.get("/api/stories", params={"outlet": "x", "limit": 50})).json()
        assert {s["id"] for s in outlet_x["stories"]} == {f"s{i:02d}" for i in range(0, 24, 3)}
        found = (await web.get("/api/stories", params={"q": "بوتين"})).json()["stories"]
        assert {s["id"] for s in found} == {"s00", "s05", "s10", "s15", "s20"}
        since = datetime.fromtimestamp(1010, UTC).isoformat()
        recent = (await web.get("/api/stories", params={"since": since})).json()["stories"]
        assert {s["id"] for s in recent} == {"s20", "s21", "s22", "s23"}
        assert (await web.get("/api/stories/s24")).json()["id"] == "s20"


async def assert_api_matches_decisions(settings: Settings, decisions: dict[str, Decision]) -> None:
    """The API over the service's Redis: every story's timeline is its decisions."""
    client = aioredis.Redis.from_url(settings.redis.url)
    try:
        async with client_of(
            create_app(RedisStoryBrowser(client, settings.redis.key_prefix))
        ) as web:
            listed = (await web.get("/api/stories")).json()["stories"]
            stories = {d.story for d in decisions.values() if d.story}
            assert {s["id"] for s in listed} == stories
            for story_id in stories:
                detail = (await web.get(f"/api/stories/{story_id}")).json()
                mine = sorted((d for d in decisions.values() if d.story == story_id),
                              key=lambda d: (d.published or datetime.min.replace(tzinfo=UTC), d.article))  # fmt: skip
                assert [
                    (e["article"], e["decision"], e["new_sentences"]) for e in detail["timeline"]
                ] == [(d.article, d.decision, d.new_sentences) for d in mine]
    finally:
        await client.aclose()
