"""Reading a request as Kartra's PHP does: ``$_REQUEST`` from the query string and the body.

PHP fills ``$_POST`` alike from ``application/x-www-form-urlencoded`` and
``multipart/form-data`` bodies; integrations also post JSON (credentials often in the query
string), which Kartra reads too. Every encoding becomes the same nested ``PhpArray``, so the
same checks answer with the same codes whatever the encoding.

Precedence is PHP's ``request_order = "GP"``: ``$_REQUEST = array_merge($_GET, $_POST)``, a
top-level merge in which a key of the body replaces the same key of the query string. A JSON
body stands in for ``$_POST``. A body that cannot be read (bad JSON, broken multipart) counts
as empty, as ``$_POST`` would be.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterator
from typing import Any, Final

from aiohttp import BodyPartReader, web

from .._form import MAX_NESTING, MAX_VARS, PhpArray, encode_pairs, parse_query

#: The request content types read as JSON, besides any ``+json`` suffix.
_JSON_TYPES: Final = frozenset({"application/json", "text/json"})


def merge_request(query: PhpArray, body: PhpArray) -> PhpArray:
    """``array_merge($_GET, $_POST)``: the body's top-level keys win over the query string's."""
    merged = dict(query)
    merged.update(body)
    return merged


def json_form(raw: bytes) -> PhpArray:
    """A JSON body as the nested array PHP would build from the same data as a form.

    Objects and lists become arrays (list positions as integer keys), ``true`` becomes ``"1"``,
    ``false`` and ``null`` become ``""``, numbers their JSON text. Not an object: empty. The
    same nesting and variable limits as a form body apply.
    """
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return {}
    if not isinstance(data, dict):
        return {}
    pairs: list[tuple[str, str]] = []
    for key, value in data.items():
        for pair in _pairs(_key(key), value, 0):
            pairs.append(pair)
            if len(pairs) >= MAX_VARS:
                return parse_query(encode_pairs(pairs))
    return parse_query(encode_pairs(pairs))


def _key(key: object) -> str:
    # PHP array keys in brackets cannot hold "[" or "]": such a key is mangled like a form's.
    return str(key).replace("[", "_").replace("]", "_")


def _pairs(name: str, value: Any, depth: int) -> Iterator[tuple[str, str]]:
    if depth > MAX_NESTING:
        return
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _pairs(f"{name}[{_key(key)}]", item, depth + 1)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _pairs(f"{name}[{index}]", item, depth + 1)
    elif value is True:
        yield name, "1"
    elif value is False or value is None:
        yield name, ""
    elif isinstance(value, str):
        yield name, value
    else:
        yield name, json.dumps(value)


def is_json(content_type: str) -> bool:
    """Whether a request's media type (no parameters) is read as JSON."""
    return content_type in _JSON_TYPES or content_type.endswith("+json")


async def multipart_form(request: web.Request) -> PhpArray:
    """A ``multipart/form-data`` body as ``$_POST``: its fields, files left out (``$_FILES``).

    Bounded like any body by the app's ``client_max_size`` (413 beyond it); only the first
    ``MAX_VARS`` fields count, as PHP's ``max_input_vars``.
    """
    limit = request.client_max_size
    if request.content_length is not None and request.content_length > limit:
        raise web.HTTPRequestEntityTooLarge(max_size=limit, actual_size=request.content_length)
    pairs: list[tuple[str, str]] = []
    size = 0
    # aiohttp's own multipart reader calls its deprecated ``unread_data`` when a boundary
    # straddles two network chunks: not ours to fix, and harmless here.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "unread_data", DeprecationWarning)
        return await _read_multipart(request, pairs, size, limit)


async def _read_multipart(
    request: web.Request, pairs: list[tuple[str, str]], size: int, limit: int
) -> PhpArray:
    try:
        reader = await request.multipart()
        while True:
            part = await reader.next()
            if part is None:
                break
            if not isinstance(part, BodyPartReader) or part.name is None or part.filename:
                continue
            data = bytearray()
            while chunk := await part.read_chunk():
                size += len(chunk)
                if size > limit:
                    raise web.HTTPRequestEntityTooLarge(max_size=limit, actual_size=size)
                data.extend(chunk)
            if len(pairs) < MAX_VARS:
                charset = part.get_charset(default="utf-8")
                pairs.append((part.name, part.decode(bytes(data)).decode(charset, "replace")))
    except (ValueError, AssertionError, LookupError, RuntimeError):
        # aiohttp raises these for a malformed body (or an unknown charset or encoding): PHP
        # would fill no $_POST either.
        return {}
    return parse_query(encode_pairs(pairs))


async def read_form(request: web.Request) -> PhpArray:
    """The request's ``$_REQUEST``: query string merged with the body, whatever its encoding."""
    query = parse_query(request.query_string) if request.query_string else {}
    content_type = request.content_type
    if content_type == "multipart/form-data":
        body = await multipart_form(request)
    elif is_json(content_type):
        body = json_form(await request.read())
    else:
        # Also without a Content-Type: clients that forget it are still read as a form.
        body = parse_query(await request.read())
    return merge_request(query, body) if query else body
