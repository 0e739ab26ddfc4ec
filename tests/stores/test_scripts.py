"""The stores' Redis scripts (monitor/stores/lua): shipped with the package, valid Lua."""

from __future__ import annotations

import tomllib
from pathlib import Path, PurePosixPath

import pytest
import redis.asyncio as aioredis

from monitor.stores import deliveries, fingerprints, stories, templates
from monitor.stores.scripts import lua_source

ROOT = Path(__file__).resolve().parents[2]
LUA_DIR = ROOT / "monitor" / "stores" / "lua"
SCRIPTS = {
    "fingerprints.match_and_add": fingerprints._MATCH_AND_ADD,
    "templates.observe": templates._OBSERVE,
    **{
        f"deliveries.{name}": getattr(deliveries, name)
        for name in ("_ENQUEUE", "_CLAIM", "_RETRY", "_DEAD")
    },
    **{
        f"stories.{name}": getattr(stories, name)
        for name in dir(stories)
        if name.startswith("_") and name.endswith("_LUA")
    },
}


def test_every_lua_file_is_package_data() -> None:
    """An installed wheel has the scripts: pyproject's package data covers every file."""
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    globs = pyproject["tool"]["setuptools"]["package-data"]["monitor"]
    files = sorted(LUA_DIR.rglob("*.lua"))
    assert files
    for path in files:
        relative = PurePosixPath(path.relative_to(ROOT / "monitor").as_posix())
        assert any(
            relative.match(glob) and len(relative.parts) == len(PurePosixPath(glob).parts)
            for glob in globs
        ), relative


def test_joined_scripts_keep_their_files_in_order() -> None:
    flush = lua_source("stories/add_timeline", "stories/file_search", "stories/flush")
    assert flush == "".join(
        (LUA_DIR / "stories" / f"{name}.lua").read_text()
        for name in ("add_timeline", "file_search", "flush")
    )
    assert lua_source("stories/resolve") is lua_source("stories/resolve")  # read once


@pytest.mark.integration
@pytest.mark.parametrize("name", sorted(SCRIPTS))
async def test_script_compiles_in_redis(name: str, redis_client: aioredis.Redis) -> None:
    sha = await redis_client.script_load(SCRIPTS[name])
    assert await redis_client.script_exists(sha) == [True]
