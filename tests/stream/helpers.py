"""Reading what the agents wrote, straight from the broker."""

from __future__ import annotations

import asyncio

from aiokafka import AIOKafkaConsumer


async def read_topic(bootstrap: str, name: str, count: int) -> dict[str, bytes]:
    """The first ``count`` distinct keys of topic ``name`` and their latest values."""
    consumer = AIOKafkaConsumer(
        name, bootstrap_servers=bootstrap, auto_offset_reset="earliest", group_id=None
    )
    await consumer.start()
    try:
        records: dict[str, bytes] = {}
        while len(records) < count:
            message = await asyncio.wait_for(consumer.getone(), 60)
            assert message.key is not None and message.value is not None
            records[message.key.decode()] = message.value
        return records
    finally:
        await consumer.stop()
