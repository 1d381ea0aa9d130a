"""The aiohttp application: middlewares (problem details, bearer token,
request limits), request parsing, and the route table from
:mod:`ransdn.api.routes`."""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
from decimal import Decimal
from typing import Any

from aiohttp import web

from ransdn.api.openapi import Endpoint, openapi_document, validate_body
from ransdn.api.problems import ProblemException, from_controller_error, problem
from ransdn.model.errors import ControllerError, FieldError
from ransdn.service import Controller

log = logging.getLogger(__name__)

CONTROLLER = web.AppKey("controller", Controller)
TOKEN = web.AppKey("token", object)
ENDPOINT = "ransdn.endpoint"
MAX_BODY = 256 * 1024
IDEMPOTENCY_LOCKS = web.AppKey("idempotency_locks", dict)
OPENAPI = web.AppKey("openapi", str)


def controller(request: web.Request) -> Controller:
    return request.app[CONTROLLER]


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(status=status, text=json.dumps(body, default=_json_default),
                        content_type="application/json", headers=headers)


def _json_default(o: Any) -> Any:
    if isinstance(o, Decimal):
        return float(o)
    raise TypeError(f"{type(o).__name__} is not JSON serialisable")


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


async def read_body(request: web.Request) -> Any:
    """The request's JSON body, checked against its endpoint's schema."""
    ep: Endpoint = request[ENDPOINT]
    ctype = request.content_type
    if ctype not in ep.body_types:
        raise ProblemException(415, "Unsupported media type",
                               f"send the body as {' or '.join(ep.body_types)}, not {ctype or 'nothing'}",
                               slug="unsupported-media-type",
                               errors=[FieldError("Content-Type", f"must be {ep.body_types[0]}")])
    if request.content_length is not None and request.content_length > MAX_BODY:
        raise _too_large(request.content_length)
    raw = await request.read()
    if len(raw) > MAX_BODY:
        raise _too_large(len(raw))
    try:
        doc = json.loads(raw.decode("utf-8"), parse_float=Decimal, parse_constant=_reject_constant)
    except (UnicodeDecodeError, ValueError) as e:
        raise ProblemException(400, "Bad request", f"the body is not valid JSON: {e}",
                               slug="malformed-json", errors=[FieldError("", "not valid JSON")])
    request["raw_body"] = raw
    if ep.body:
        validate_body(ep.body, doc)
    return doc


def _too_large(size: int) -> ProblemException:
    return ProblemException(413, "Request body too large",
                            f"the body is {size} bytes; the limit is {MAX_BODY}",
                            slug="body-too-large",
                            errors=[FieldError("", f"at most {MAX_BODY} bytes")])


async def idempotent(request: web.Request, create: Any) -> web.StreamResponse:
    """Run ``create`` once per Idempotency-Key; replay its 2xx response for
    repeats of the same request, refuse the key for a different one."""
    key = request.headers.get("Idempotency-Key")
    if key is None:
        return await create()
    if not 1 <= len(key) <= 255 or not key.isprintable():
        raise ProblemException(400, "Bad request", "Idempotency-Key must be 1..255 printable "
                               "characters", slug="bad-idempotency-key",
                               errors=[FieldError("Idempotency-Key", "1..255 printable characters")])
    fp = hashlib.sha256(request.method.encode() + b" " + request.path.encode() + b"\n"
                        + request.get("raw_body", b"")).hexdigest()
    store = controller(request).store
    locks = request.app[IDEMPOTENCY_LOCKS]
    import asyncio
    lock = locks.setdefault(key, asyncio.Lock())
    async with lock:
        stored = store.idempotent_response(key)
        if stored:
            old_fp, status, body, headers = stored
            if old_fp != fp:
                raise ProblemException(
                    422, "Idempotency-Key reused", "this Idempotency-Key was used for a "
                    "different request; use a new key", slug="idempotency-key-reused",
                    errors=[FieldError("Idempotency-Key", "used before with another body")])
            return json_response(body, status, {**headers, "Idempotent-Replayed": "true"})
        response = await create()
        if 200 <= response.status < 300 and isinstance(response, web.Response) and response.text:
            headers = {h: response.headers[h] for h in ("Location", "ETag") if h in response.headers}
            store.remember_response(key, fp, response.status, json.loads(response.text), headers)
    locks.pop(key, None)
    return response


@web.middleware
async def problems_middleware(request: web.Request, handler: Any) -> web.StreamResponse:
    try:
        return await handler(request)
    except ProblemException as e:
        return e.response(request.path)
    except ControllerError as e:
        return from_controller_error(e, request.path)
    except web.HTTPRequestEntityTooLarge as e:
        return _too_large(e.actual_size or MAX_BODY + 1).response(request.path)
    except web.HTTPException as e:
        if e.status < 400:
            raise
        headers = {"Allow": e.headers["Allow"]} if "Allow" in e.headers else None
        return problem(e.status, e.reason, _http_detail(e, request), instance=request.path,
                       headers=headers)
    except Exception:
        log.exception("unhandled error serving %s %s", request.method, request.path)
        return problem(500, "Internal server error", "the controller failed to serve the "
                       "request; see its log", instance=request.path)


def _http_detail(e: web.HTTPException, request: web.Request) -> str:
    if e.status == 404:
        return f"no resource at {request.path}"
    if e.status == 405:
        return f"{request.method} is not allowed on {request.path}"
    return e.text or e.reason


@web.middleware
async def auth_middleware(request: web.Request, handler: Any) -> web.StreamResponse:
    token = request.app[TOKEN]
    if token and request.path.startswith("/api/v1/") and request.path != "/api/v1/openapi.json":
        given = request.headers.get("Authorization", "")
        scheme, _, value = given.partition(" ")
        if scheme.lower() != "bearer" or not secrets.compare_digest(value.strip().encode(),
                                                                     str(token).encode()):
            return problem(401, "Unauthorized", "send 'Authorization: Bearer <token>'",
                           slug="unauthorized", instance=request.path,
                           headers={"WWW-Authenticate": 'Bearer realm="ransdn"'})
    return await handler(request)


def _bind(ep: Endpoint) -> Any:
    async def handle(request: web.Request) -> web.StreamResponse:
        request[ENDPOINT] = ep
        return await ep.handler(request)
    return handle


def create_app(ctl: Controller, *, token: str | None = None) -> web.Application:
    from ransdn.api.routes import endpoints

    app = web.Application(middlewares=[problems_middleware, auth_middleware],
                          client_max_size=MAX_BODY)
    app[CONTROLLER] = ctl
    app[TOKEN] = token
    app[IDEMPOTENCY_LOCKS] = {}
    eps = endpoints()
    app[OPENAPI] = json.dumps(openapi_document(eps, secured=bool(token)))
    for ep in eps:
        app.router.add_route(ep.method, ep.path, _bind(ep))
    return app
