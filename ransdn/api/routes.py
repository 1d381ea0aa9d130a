"""Handlers of the REST API and their declarations."""

from __future__ import annotations

import copy
from typing import Any

from aiohttp import web

from ransdn import __version__
from ransdn.api.app import (
    OPENAPI,
    controller,
    idempotent,
    json_response,
    read_body,
)
from ransdn.api.openapi import Endpoint, Param, query_params, validate_body
from ransdn.api.problems import ProblemException
from ransdn.api.schemas import SCHEMAS
from ransdn.model.errors import FieldError, NotFound

SLICE_ID = Param("slice_id", "path", SCHEMAS["SliceId"], "Slice identifier.")
NODE_NAME = Param("name", "path", SCHEMAS["NodeName"], "Node name.")
IF_MATCH = Param("If-Match", "header", {"type": "string"},
                 "ETag from the last GET; required to modify.")
IF_MATCH_OPTIONAL = Param("If-Match", "header", {"type": "string"},
                          "ETag from the last GET; when given, must be current.")
IDEMPOTENCY_KEY = Param("Idempotency-Key", "header", {"type": "string", "minLength": 1,
                                                      "maxLength": 255},
                        "Makes the create safe to retry: a repeat with the same key and body "
                        "returns the first response.")
BODY_PROBLEMS = (400, 413, 415, 422)


def _path_id(request: web.Request, param: Param) -> str:
    value = request.match_info[param.name]
    import re
    schema = param.schema
    if not (1 <= len(value) <= schema["maxLength"] and re.fullmatch(schema["pattern"], value)):
        raise NotFound(f"no {param.name.replace('_', ' ')} {value!r}")
    return value


# -- slices ---------------------------------------------------------------------

async def list_slices(request: web.Request) -> web.Response:
    c = controller(request)
    q = query_params(request, request["ransdn.endpoint"])
    overrides = c.airtime_overrides()
    items = [c.slice_view(s, overrides) for s in c.list_slices(q.get("tenant"))]
    return json_response({"items": items, "count": len(items)})


async def create_slice(request: web.Request) -> web.StreamResponse:
    doc = await read_body(request)

    async def create() -> web.Response:
        c = controller(request)
        s, _tx = await c.create_slice(doc)
        return json_response(c.slice_view(s), 201,
                             {"Location": f"/api/v1/slices/{s.id}", "ETag": s.etag()})
    return await idempotent(request, create)


async def get_slice(request: web.Request) -> web.Response:
    c = controller(request)
    s = c.get_slice(_path_id(request, SLICE_ID))
    return json_response(c.slice_view(s), headers={"ETag": s.etag()})


def _require_if_match(request: web.Request) -> str:
    value = request.headers.get("If-Match")
    if value is None:
        raise ProblemException(428, "Precondition required",
                               "modifying a slice needs If-Match with the ETag from the last GET",
                               slug="precondition-required",
                               errors=[FieldError("If-Match", "is required")])
    return value


async def replace_slice(request: web.Request) -> web.Response:
    c = controller(request)
    slice_id = _path_id(request, SLICE_ID)
    doc = await read_body(request)
    if_match = _require_if_match(request)
    s, _tx = await c.update_slice(slice_id, doc, if_match)
    return json_response(c.slice_view(s), headers={"ETag": s.etag()})


def request_form(spec: dict[str, Any]) -> dict[str, Any]:
    """A stored slice as a SliceRequest (what a client would PUT), no secret."""
    doc = copy.deepcopy(spec)
    if "wifi" in doc:
        doc["wifi"]["security"] = {"mode": doc["wifi"]["security"]["mode"]}
    if not doc.get("description"):
        doc.pop("description", None)
    return doc


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON Merge Patch."""
    if not isinstance(patch, dict):
        return patch
    out = dict(target) if isinstance(target, dict) else {}
    for k, v in patch.items():
        if v is None:
            out.pop(k, None)
        else:
            out[k] = merge_patch(out.get(k), v)
    return out


async def patch_slice(request: web.Request) -> web.Response:
    c = controller(request)
    slice_id = _path_id(request, SLICE_ID)
    patch = await read_body(request)
    if not isinstance(patch, dict):
        raise ProblemException(422, "Invalid request", "a merge patch is a JSON object",
                               slug="invalid-request", errors=[FieldError("", "must be an object")])
    if_match = _require_if_match(request)
    current = c.get_slice(slice_id)
    doc = merge_patch(request_form(current.spec()), patch)
    validate_body("SliceRequest", doc)
    s, _tx = await c.update_slice(slice_id, doc, if_match)
    return json_response(c.slice_view(s), headers={"ETag": s.etag()})


async def delete_slice(request: web.Request) -> web.Response:
    c = controller(request)
    slice_id = _path_id(request, SLICE_ID)
    q = query_params(request, request["ransdn.endpoint"])
    tx = await c.delete_slice(slice_id, request.headers.get("If-Match"), bool(q.get("force")))
    return json_response({"deleted": slice_id, "transaction": tx.to_dict()})


async def slice_lte(request: web.Request) -> web.Response:
    c = controller(request)
    slice_id = _path_id(request, SLICE_ID)
    return json_response({"slice": slice_id, "cells": await c.slice_lte_status(slice_id)})


async def slice_sla(request: web.Request) -> web.Response:
    c = controller(request)
    slice_id = _path_id(request, SLICE_ID)
    return json_response({"slice": slice_id, "items": c.sla(slice_id)})


async def all_sla(request: web.Request) -> web.Response:
    return json_response({"items": controller(request).sla()})


async def airtime_status(request: web.Request) -> web.Response:
    return json_response(controller(request).airtime_status())


async def set_airtime_policy(request: web.Request) -> web.Response:
    doc = await read_body(request)
    c = controller(request)
    c.set_airtime_policy(doc["policy"])
    return json_response(c.airtime_status())


# -- nodes ----------------------------------------------------------------------

async def list_nodes(request: web.Request) -> web.Response:
    c = controller(request)
    q = query_params(request, request["ransdn.endpoint"])
    nodes = [n for n in c.list_nodes() if q.get("kind") in (None, n.kind)]
    if any(n.kind == "lte" for n in nodes):
        await c.lte_cells()  # refresh the cell views, as for one node
    items = [c.node_view(n) for n in nodes]
    return json_response({"items": items, "count": len(items)})


async def register_node(request: web.Request) -> web.StreamResponse:
    doc = await read_body(request)

    async def create() -> web.Response:
        c = controller(request)
        node = await c.register_node(doc)
        return json_response(c.node_view(node), 201, {"Location": f"/api/v1/nodes/{node.name}"})
    return await idempotent(request, create)


async def get_node(request: web.Request) -> web.Response:
    c = controller(request)
    node = c.get_node(_path_id(request, NODE_NAME))
    if node.kind == "lte":
        await c.lte_cells()  # refresh the cell view
    return json_response(c.node_view(node))


async def delete_node(request: web.Request) -> web.Response:
    await controller(request).remove_node(_path_id(request, NODE_NAME))
    return web.Response(status=204)


async def lte_cells(request: web.Request) -> web.Response:
    return json_response({"items": await controller(request).lte_cells()})


# -- events, controller, health, metrics ------------------------------------------

async def list_events(request: web.Request) -> web.Response:
    q = query_params(request, request["ransdn.endpoint"])
    limit = q.get("limit", 100)
    items = controller(request).events(after=q.get("after", 0), limit=limit, node=q.get("node"),
                                       slice=q.get("slice"), kind=q.get("kind"))
    next_after = items[-1].seq if len(items) == limit else None
    return json_response({"items": [e.to_dict() for e in items], "next_after": next_after})


async def controller_info(request: web.Request) -> web.Response:
    c = controller(request)
    return json_response({"version": __version__, "ssh_public_key": c.client_key.public_line,
                          "ssh_key_fingerprint": c.client_key.fingerprint,
                          "schema_version": c.store.schema_version()})


async def healthz(request: web.Request) -> web.Response:
    c = controller(request)
    states: dict[str, int] = {}
    for n in c.list_nodes():
        st = c.connection_state(n.name)
        states[st] = states.get(st, 0) + 1
    return json_response({"status": "ok", "nodes": states, "slices": len(c.list_slices())})


async def metrics(request: web.Request) -> web.Response:
    body = controller(request).metrics.exposition()
    return web.Response(body=body, headers={"Content-Type": "text/plain; version=0.0.4; charset=utf-8"})


async def openapi(request: web.Request) -> web.Response:
    return web.Response(text=request.app[OPENAPI], content_type="application/json")


def endpoints() -> list[Endpoint]:
    limit = {"type": "integer", "minimum": 1, "maximum": 1000, "default": 100}
    return [
        Endpoint("GET", "/api/v1/slices", "listSlices", "List slices", "slices", list_slices,
                 {200: "SliceList"}, (400,),
                 params=(Param("tenant", "query", SCHEMAS["TenantId"], "Only this tenant's."),)),
        Endpoint("POST", "/api/v1/slices", "createSlice", "Create a slice", "slices", create_slice,
                 {201: "Slice"}, (*BODY_PROBLEMS, 409, 502), body="SliceRequest",
                 params=(IDEMPOTENCY_KEY,), response_headers={201: ("Location", "ETag")},
                 links={op: (op, {"slice_id": "$response.body#/id"}) for op in
                        ("getSlice", "patchSlice", "deleteSlice", "getSliceSla")},
                 description="Admission control runs first; then the slice is provisioned on "
                             "every node it needs, all-or-nothing. On 409 and 502 nothing was "
                             "changed on any node and nothing is stored; the problem's "
                             "`transaction` shows the outcome per node."),
        Endpoint("GET", "/api/v1/slices/{slice_id}", "getSlice", "Get a slice", "slices",
                 get_slice, {200: "Slice"}, (404,), params=(SLICE_ID,),
                 response_headers={200: ("ETag",)}),
        Endpoint("PUT", "/api/v1/slices/{slice_id}", "replaceSlice", "Modify a slice (replace)",
                 "slices", replace_slice, {200: "Slice"},
                 (*BODY_PROBLEMS, 404, 409, 412, 428, 502), body="SliceRequest",
                 params=(SLICE_ID, IF_MATCH), response_headers={200: ("ETag",)}),
        Endpoint("PATCH", "/api/v1/slices/{slice_id}", "patchSlice",
                 "Modify a slice (JSON Merge Patch)", "slices", patch_slice, {200: "Slice"},
                 (*BODY_PROBLEMS, 404, 409, 412, 428, 502), body="SlicePatch",
                 body_types=("application/merge-patch+json", "application/json"),
                 params=(SLICE_ID, IF_MATCH), response_headers={200: ("ETag",)}),
        Endpoint("DELETE", "/api/v1/slices/{slice_id}", "deleteSlice", "Delete a slice", "slices",
                 delete_slice, {200: "DeleteResult"}, (400, 404, 412, 502),
                 params=(SLICE_ID, IF_MATCH_OPTIONAL,
                         Param("force", "query", {"type": "boolean", "default": False},
                               "Forget the slice even if some of its nodes are unreachable; they "
                               "are cleaned when they reconnect.")),),
        Endpoint("GET", "/api/v1/slices/{slice_id}/lte", "getSliceLte",
                 "Per cell of an LTE slice: S1 state, attached and rejected UEs", "lte",
                 slice_lte, {200: "SliceLteStatus"}, (404,), params=(SLICE_ID,)),
        Endpoint("GET", "/api/v1/slices/{slice_id}/sla", "getSliceSla", "SLA of one slice", "sla",
                 slice_sla, {200: "SlaReport"}, (404,), params=(SLICE_ID,)),
        Endpoint("GET", "/api/v1/sla", "listSla", "SLA of every slice", "sla", all_sla,
                 {200: "SlaReport"}),
        Endpoint("GET", "/api/v1/airtime", "getAirtime",
                 "Global airtime scheduler: policy, period and the last control period", "sla",
                 airtime_status, {200: "AirtimeStatus"}),
        Endpoint("PUT", "/api/v1/airtime/policy", "setAirtimePolicy",
                 "Switch the global airtime policy", "sla", set_airtime_policy,
                 {200: "AirtimeStatus"}, BODY_PROBLEMS, body="AirtimePolicyRequest",
                 description="Takes effect at the next control period; no state or period is "
                             "lost. 422 names the known policies."),
        Endpoint("GET", "/api/v1/nodes", "listNodes", "List nodes", "nodes", list_nodes,
                 {200: "NodeList"}, (400,),
                 params=(Param("kind", "query", {"enum": ["wifi", "lte"]}, "Only this kind."),)),
        Endpoint("POST", "/api/v1/nodes", "registerNode", "Register a node", "nodes",
                 register_node, {201: "Node"}, (*BODY_PROBLEMS, 409), body="NodeRequest",
                 params=(IDEMPOTENCY_KEY,), response_headers={201: ("Location",)},
                 links={op: (op, {"name": "$response.body#/name"}) for op in ("getNode", "deleteNode")},
                 description="The controller connects at once and keeps retrying with backoff; "
                             "see `connection` for the state and the last error."),
        Endpoint("GET", "/api/v1/nodes/{name}", "getNode", "Get a node", "nodes", get_node,
                 {200: "Node"}, (404,), params=(NODE_NAME,)),
        Endpoint("DELETE", "/api/v1/nodes/{name}", "deleteNode", "Unregister a node", "nodes",
                 delete_node, {204: None}, (404, 409), params=(NODE_NAME,),
                 description="Refused (409) while a slice uses the node."),
        Endpoint("GET", "/api/v1/lte/cells", "listCells",
                 "LTE PLMN manager: every cell's PLMNs, IMSI ACLs, MMEs and S1 state", "lte",
                 lte_cells, {200: "CellList"}),
        Endpoint("GET", "/api/v1/events", "listEvents", "Events, oldest first, paginated",
                 "events", list_events, {200: "EventPage"}, (400,),
                 params=(Param("after", "query", {"type": "integer", "minimum": 0,
                                                  "maximum": 2**63 - 1, "default": 0},
                               "Return events with seq greater than this (next_after of the "
                               "previous page)."),
                         Param("limit", "query", limit),
                         Param("node", "query", SCHEMAS["NodeName"]),
                         Param("slice", "query", SCHEMAS["SliceId"]),
                         Param("kind", "query", {"type": "string", "maxLength": 64,
                                                 "pattern": "^[a-z.-]+$"},
                               "Event kind or kind prefix, e.g. 'drift' or 'node.connected'."))),
        Endpoint("GET", "/api/v1/controller", "getController",
                 "Controller version and SSH public key to install on nodes", "controller",
                 controller_info, {200: "ControllerInfo"}),
        Endpoint("GET", "/api/v1/openapi.json", "getOpenApi", "This document", "controller",
                 openapi, {200: {"type": "object"}}, secured=False),
        Endpoint("GET", "/healthz", "health", "Liveness", "controller", healthz,
                 {200: "Health"}, secured=False),
        Endpoint("GET", "/metrics", "metrics", "Prometheus metrics", "controller", metrics,
                 {200: None}, response_types={200: "text/plain"}, secured=False),
    ]
