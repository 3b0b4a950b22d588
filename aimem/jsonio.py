"""JSON in and out: the only module that imports orjson."""

from __future__ import annotations

from typing import Any

import orjson

JSONDecodeError = orjson.JSONDecodeError


def loads(data: bytes | str) -> Any:
    return orjson.loads(data)


def dumps(obj: Any, *, indent: bool = False, sort_keys: bool = False) -> bytes:
    option = orjson.OPT_NON_STR_KEYS
    if indent:
        option |= orjson.OPT_INDENT_2
    if sort_keys:
        option |= orjson.OPT_SORT_KEYS
    return orjson.dumps(obj, option=option)


def dumps_str(obj: Any, *, indent: bool = False) -> str:
    return dumps(obj, indent=indent).decode("utf-8")
