"""Endpoints are declared once (method, path, parameters, body and response
schemas); the same declaration routes the request, validates it and
produces the OpenAPI 3.1 document."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable

import jsonschema
from aiohttp import web

from ransdn import __version__
from ransdn.api.problems import ProblemException
from ransdn.api.schemas import SCHEMAS, Schema, ref
from ransdn.model.errors import FieldError

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

PROBLEM_STATUSES = {
    400: "Malformed request (not JSON, bad query parameter).",
    401: "Missing or wrong bearer token.",
    404: "No such resource.",
    409: "Conflicts with the network or another resource (admission control, a node that is "
         "not connected, a slice using a node); `errors` names the conflict and nothing "
         "was changed.",
    412: "If-Match does not match the current ETag.",
    413: "Request body too large.",
    415: "Unsupported request content type.",
    422: "The request document is invalid; `errors` lists each bad field.",
    428: "If-Match is required to modify.",
    502: "A node refused the change; every node was left as it was.",
}


@dataclass(frozen=True)
class Param:
    name: str
    location: str  # "path" | "query" | "header"
    schema: Schema
    description: str = ""
    required: bool = False


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    operation_id: str
    summary: str
    tag: str
    handler: Handler
    responses: dict[int, str | Schema | None]  # status -> schema (name or inline); None: no body
    problems: tuple[int, ...] = ()
    body: str | None = None
    body_types: tuple[str, ...] = ("application/json",)
    params: tuple[Param, ...] = ()
    response_headers: dict[int, tuple[str, ...]] = field(default_factory=dict)
    response_types: dict[int, str] = field(default_factory=dict)
    description: str = ""
    secured: bool = True
    #: OpenAPI links from a response: name -> (operationId, {param: expression})
    links: dict[str, tuple[str, dict[str, str]]] = field(default_factory=dict)


HEADER_DOCS = {
    "ETag": "Current version of the resource; send it back in If-Match to modify.",
    "Location": "URL of the created resource.",
    "Idempotent-Replayed": "'true' when the response is a replay for a reused Idempotency-Key.",
}


def _validator(schema: Schema) -> jsonschema.protocols.Validator:
    root = {"$schema": "https://json-schema.org/draft/2020-12/schema",
            "components": {"schemas": SCHEMAS}, **schema}
    cls = jsonschema.Draft202012Validator
    return cls(root, format_checker=cls.FORMAT_CHECKER)


_VALIDATORS: dict[str, jsonschema.protocols.Validator] = {}


def validate_body(schema_name: str, doc: Any) -> None:
    """Raise a 422 problem listing every field of ``doc`` that violates the schema."""
    v = _VALIDATORS.get(schema_name)
    if v is None:
        v = _VALIDATORS[schema_name] = _validator(ref(schema_name))
    errors = sorted(v.iter_errors(doc), key=lambda e: list(e.absolute_path))
    if errors:
        fields = [_field_error(e) for e in _leaves(errors)]
        raise ProblemException(422, "Invalid request",
                               f"The request body does not match {schema_name}: "
                               + "; ".join(f"{f.field or '/'}: {f.reason}" for f in fields[:5]),
                               slug="invalid-request", errors=fields)


def _leaves(errors: list[jsonschema.ValidationError]) -> list[jsonschema.ValidationError]:
    out = []
    for e in errors:
        if e.validator in ("anyOf", "oneOf") and e.context and e.validator_value != [
                {"required": ["wifi"]}, {"required": ["lte"]}]:
            # Report the alternative that got furthest, not "valid under none".
            best = jsonschema.exceptions.best_match(e.context)
            out.append(best if best is not None else e)
        else:
            out.append(e)
    return out


def _pointer(path: Any) -> str:
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in path)


def _field_error(e: jsonschema.ValidationError) -> FieldError:
    path = _pointer(e.absolute_path)
    if e.validator == "required":
        missing = e.message.split("'")[1] if "'" in e.message else ""
        return FieldError(f"{path}/{missing}", "is required")
    if e.validator == "additionalProperties":
        return FieldError(path, e.message.replace("Additional properties are not allowed", "unknown field(s)"))
    if e.validator == "anyOf" and e.validator_value == [{"required": ["wifi"]}, {"required": ["lte"]}]:
        return FieldError(path, "a slice needs a 'wifi' part, an 'lte' part or both")
    reason = e.message
    if len(reason) > 200:
        reason = reason[:200] + "..."
    return FieldError(path, reason)


def parse_param(p: Param, raw: str) -> Any:
    t = p.schema.get("type")
    value: Any = raw
    try:
        if t == "integer":
            value = int(raw)
        elif t == "boolean":
            if raw.lower() not in ("true", "false", "1", "0"):
                raise ValueError
            value = raw.lower() in ("true", "1")
    except ValueError:
        raise ProblemException(400, "Bad request", f"parameter {p.name!r} must be {t}",
                               slug="bad-parameter",
                               errors=[FieldError(p.name, f"must be {t}")]) from None
    errs = list(_validator(p.schema).iter_errors(value))
    if errs:
        raise ProblemException(400, "Bad request", f"parameter {p.name!r}: {errs[0].message}",
                               slug="bad-parameter",
                               errors=[FieldError(p.name, errs[0].message)])
    return value


def query_params(request: web.Request, endpoint: Endpoint) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for p in endpoint.params:
        if p.location != "query":
            continue
        raw = request.query.get(p.name)
        if raw is None:
            if "default" in p.schema:
                out[p.name] = p.schema["default"]
            continue
        out[p.name] = parse_param(p, raw)
    return out


def openapi_document(endpoints: list[Endpoint], *, secured: bool) -> dict[str, Any]:
    paths: dict[str, Any] = {}
    for ep in endpoints:
        op: dict[str, Any] = {
            "operationId": ep.operation_id,
            "summary": ep.summary,
            "tags": [ep.tag],
            "responses": {},
        }
        if ep.description:
            op["description"] = ep.description
        if ep.params:
            op["parameters"] = [
                {"name": p.name, "in": p.location, "required": p.required or p.location == "path",
                 "schema": p.schema, **({"description": p.description} if p.description else {})}
                for p in ep.params]
        if ep.body:
            op["requestBody"] = {"required": True, "content": {
                t: {"schema": ref(ep.body)} for t in ep.body_types}}
        for status, schema in sorted(ep.responses.items()):
            resp: dict[str, Any] = {"description": _status_text(status)}
            ctype = ep.response_types.get(status, "application/json")
            if schema is not None:
                resp["content"] = {ctype: {"schema": ref(schema) if isinstance(schema, str) else schema}}
            elif status in ep.response_types:
                resp["content"] = {ctype: {"schema": {"type": "string"}}}
            if ep.links and 200 <= status < 300:
                resp["links"] = {name: {"operationId": op_id, "parameters": params}
                                 for name, (op_id, params) in ep.links.items()}
            if ep.response_headers.get(status):
                resp["headers"] = {h: {"description": HEADER_DOCS[h], "schema": {"type": "string"}}
                                   for h in ep.response_headers[status]}
            op["responses"][str(status)] = resp
        problems = set(ep.problems)
        if secured and ep.secured:
            problems.add(401)
            op["security"] = [{"bearer": []}]
        for status in sorted(problems):
            op["responses"][str(status)] = {
                "description": PROBLEM_STATUSES[status],
                "content": {"application/problem+json": {"schema": ref("Problem")}}}
        paths.setdefault(ep.path, {})[ep.method.lower()] = op
    doc: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {
            "title": "ransdn controller API",
            "version": __version__,
            "description": "Slices of a city's shared Wi-Fi and LTE access network. Errors are "
                           "RFC 9457 problem details with field-level reasons. Modify with "
                           "If-Match (ETag); create idempotently with an Idempotency-Key header.",
        },
        "jsonSchemaDialect": "https://json-schema.org/draft/2020-12/schema",
        "paths": paths,
        "components": {"schemas": SCHEMAS},
    }
    if secured:
        doc["components"]["securitySchemes"] = {"bearer": {"type": "http", "scheme": "bearer"}}
    return doc


def _status_text(status: int) -> str:
    from http import HTTPStatus
    return HTTPStatus(status).phrase


def dumps(doc: Any) -> str:
    return json.dumps(doc, default=str)
