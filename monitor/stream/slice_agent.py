"""The first slice of the service mode: a trivial agent from ``raw`` to ``clean``-shaped output.

It exists to prove the plumbing (broker, topics, serialisation, in-process running) end to end
before the real stages land, and stays as the smallest example of an agent. It reads
``RawArticle`` JSON from the ``raw`` topic and writes the same article with its title stripped
and upper-cased to the topic ``<prefix>slice``, keyed by article id.

>>> shout_title(RawArticle(id="a", outlet="o", title="  breaking news ")).title
'BREAKING NEWS'
"""

from __future__ import annotations

from faust.types import StreamT, TopicT

from monitor.core.records import RawArticle
from monitor.stream.app import MonitorApp, extra_topic, topic

__all__ = ["SLICE_SUFFIX", "register", "shout_title"]

SLICE_SUFFIX = "slice"


def shout_title(article: RawArticle) -> RawArticle:
    return article.model_copy(update={"title": article.title.strip().upper()})


def output_topic(app: MonitorApp) -> TopicT:
    return extra_topic(app, SLICE_SUFFIX)


def register(app: MonitorApp) -> None:
    out = output_topic(app)

    @app.agent(topic(app, "raw"), name=f"{app.conf.id}.slice")
    async def slice_agent(stream: StreamT[bytes]) -> None:
        async for key, value in stream.items():
            article = shout_title(RawArticle.model_validate_json(value))
            await out.send(key=key, value=article.model_dump_json().encode())
