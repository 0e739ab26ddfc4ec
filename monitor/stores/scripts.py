"""The stores' Redis scripts, read once from the ``.lua`` files under ``monitor/stores/lua``.

A script made of several files (a library of Lua functions, then the script that calls them)
is their texts joined in the order given; Redis has no ``require``.

>>> "redis.call('GET'" in lua_source("stories/resolve")
True
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files

__all__ = ["lua_source"]


@cache
def lua_source(*names: str) -> str:
    """The text of ``lua/<name>.lua`` for each of ``names``, joined in that order."""
    folder = files("monitor.stores").joinpath("lua")
    return "".join(folder.joinpath(f"{name}.lua").read_text(encoding="utf-8") for name in names)
