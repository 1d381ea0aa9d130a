"""JSON Schemas (2020-12) of every request and response body.

These dicts are both what the OpenAPI 3.1 document publishes under
``components/schemas`` and what requests are validated against, so the
documentation and the validation cannot diverge.  Patterns and ranges
follow the YANG modules (ransdn-types).
"""

from __future__ import annotations

from typing import Any

Schema = dict[str, Any]


def ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def nullable(schema: Schema) -> Schema:
    return {"anyOf": [schema, {"type": "null"}]}


IDENT = "^[A-Za-z0-9][A-Za-z0-9._-]*$"
TIMESTAMP = {"type": "string", "description": "RFC 3339 UTC time."}

SCHEMAS: dict[str, Schema] = {
    # -- identifiers ----------------------------------------------------------
    "SliceId": {"type": "string", "minLength": 1, "maxLength": 64, "pattern": IDENT,
                "description": "Slice identifier (ransdn-types:slice-id)."},
    "TenantId": {"type": "string", "minLength": 1, "maxLength": 64, "pattern": IDENT,
                 "description": "Tenant name (ransdn-types:tenant-id)."},
    "NodeName": {"type": "string", "minLength": 1, "maxLength": 64, "pattern": IDENT,
                 "description": "Name of a registered node."},
    "InterfaceName": {"type": "string", "minLength": 1, "maxLength": 15,
                      "pattern": "^[A-Za-z0-9_.-]+$", "description": "A radio (wiphy) name."},
    "Share": {"type": "number", "minimum": 0, "maximum": 100,
              "description": "Airtime share in percent, at most two fractional digits."},
    "Plmn": {
        "type": "object", "additionalProperties": False, "required": ["mcc", "mnc"],
        "properties": {
            "mcc": {"type": "string", "pattern": "^[0-9]{3}$", "description": "Mobile Country Code."},
            "mnc": {"type": "string", "pattern": "^[0-9]{2,3}$",
                    "description": "Mobile Network Code; '01' and '001' differ."},
        },
    },
    # -- slices -----------------------------------------------------------------
    "WifiSecurityRequest": {
        "type": "object", "additionalProperties": False, "required": ["mode"],
        "properties": {
            "mode": {"enum": ["open", "wpa2-psk"]},
            "passphrase": {"type": "string", "minLength": 8, "maxLength": 63,
                           "pattern": "^[ -~]*$", "writeOnly": True,
                           "description": "WPA2 passphrase (8..63 printable ASCII). Turned into "
                                          "the PSK at once; never stored or returned. May be "
                                          "omitted on modify to keep the key unless the SSID "
                                          "changes."},
        },
    },
    "WifiNodeRef": {
        "type": "object", "additionalProperties": False, "required": ["node"],
        "properties": {
            "node": ref("NodeName"),
            "radios": {"type": "array", "maxItems": 16, "items": ref("InterfaceName"),
                       "description": "Radios to put the vif on; empty or absent: every "
                                      "radio of the node (resolved at admission)."},
        },
    },
    "WifiPartRequest": {
        "type": "object", "additionalProperties": False, "required": ["ssid", "nodes"],
        "properties": {
            "ssid": {"type": "string", "minLength": 1, "maxLength": 32, "pattern": "^[ -~]*$"},
            "security": ref("WifiSecurityRequest"),
            "guaranteed_share": ref("Share"),
            "cap": ref("Share"),
            "vlan": {"type": "integer", "minimum": 1, "maximum": 4094},
            "nodes": {"type": "array", "minItems": 1, "maxItems": 1000, "items": ref("WifiNodeRef")},
        },
    },
    "Mme": {
        "type": "object", "additionalProperties": False, "required": ["address"],
        "properties": {
            "address": {"type": "string", "anyOf": [{"format": "ipv4"}, {"format": "ipv6"}]},
            "port": {"type": "integer", "minimum": 1, "maximum": 65535, "default": 36412},
            "name": {"type": "string", "minLength": 1, "maxLength": 64},
        },
    },
    "ImsiAcl": {
        "type": "object", "additionalProperties": False,
        "properties": {
            "default_action": {"enum": ["accept", "reject"], "default": "reject"},
            "imsis": {"type": "array", "maxItems": 10000,
                      "items": {"type": "string", "pattern": "^[0-9]{6,15}$"}},
            "prefixes": {"type": "array", "maxItems": 1000,
                         "items": {"type": "string", "pattern": "^[0-9]{1,15}$"}},
        },
    },
    "LtePartRequest": {
        "type": "object", "additionalProperties": False, "required": ["plmn", "mmes", "cells"],
        "properties": {
            "plmn": ref("Plmn"),
            "mmes": {"type": "array", "minItems": 1, "maxItems": 16, "items": ref("Mme")},
            "imsi_acl": ref("ImsiAcl"),
            "reserved": {"type": "boolean"},
            "cells": {"type": "array", "minItems": 1, "maxItems": 1000, "items": ref("NodeName")},
        },
    },
    "SliceRequest": {
        "type": "object", "additionalProperties": False, "required": ["tenant"],
        "anyOf": [{"required": ["wifi"]}, {"required": ["lte"]}],
        "description": "A slice intent: a tenant with a Wi-Fi part, an LTE part or both.",
        "properties": {
            "id": ref("SliceId"),
            "tenant": ref("TenantId"),
            "description": {"type": "string", "maxLength": 256},
            "wifi": ref("WifiPartRequest"),
            "lte": ref("LtePartRequest"),
        },
    },
    "SlicePatch": {
        "type": "object",
        "description": "JSON Merge Patch (RFC 7386) applied to the slice's request form; the "
                       "result must be a valid SliceRequest.",
    },
    "NodeOutcome": {
        "type": "object", "required": ["node", "outcome", "changes", "error"],
        "properties": {
            "node": {"type": "string"},
            "outcome": {"enum": ["applied", "unchanged", "failed", "rolled-back",
                                 "not-attempted", "unreachable", "partial"]},
            "changes": {"type": "array", "items": {"type": "string"}},
            "error": nullable({"type": "string"}),
        },
    },
    "Transaction": {
        "type": "object", "required": ["id", "ok", "nodes"],
        "description": "An all-or-nothing provisioning transaction and its outcome per node.",
        "properties": {
            "id": {"type": "string"},
            "ok": {"type": "boolean"},
            "reason": nullable({"type": "string"}),
            "started_at": {"type": "number"},
            "duration": {"type": "number"},
            "nodes": {"type": "array", "items": ref("NodeOutcome")},
        },
    },
    "Slice": {
        "type": "object",
        "required": ["id", "tenant", "state", "version", "created_at", "updated_at", "nodes"],
        "properties": {
            "id": {"type": "string"},
            "tenant": {"type": "string"},
            "description": {"type": "string"},
            "wifi": {
                "type": "object", "required": ["ssid", "security", "guaranteed_share", "nodes"],
                "properties": {
                    "ssid": {"type": "string"},
                    "security": {
                        "type": "object", "required": ["mode"],
                        "properties": {
                            "mode": {"enum": ["open", "wpa2-psk"]},
                            "psk_sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
                        },
                    },
                    "guaranteed_share": {"type": "number"},
                    "cap": {"type": "number"},
                    "vlan": {"type": "integer"},
                    "nodes": {"type": "array", "items": ref("WifiNodeRef")},
                    "vifs": {"type": "array", "items": {
                        "type": "object", "required": ["node", "radio", "vif", "airtime"],
                        "properties": {
                            "node": {"type": "string"}, "radio": {"type": "string"},
                            "vif": {"type": "string"},
                            "airtime": {
                                "type": "object",
                                "description": "The airtime setting in force on the vif: the "
                                               "slice's own, or the global scheduler's "
                                               "correction of it (a control period after a "
                                               "change of the slice, the scheduler's).",
                                "required": ["guaranteed_share", "cap", "set_by"],
                                "properties": {
                                    "guaranteed_share": {"type": "number"},
                                    "cap": nullable({"type": "number"}),
                                    "set_by": {"enum": ["slice", "global-scheduler"]},
                                }},
                        }}},
                },
            },
            "lte": {
                "type": "object", "required": ["plmn", "mmes", "imsi_acl", "cells"],
                "properties": {
                    "plmn": ref("Plmn"), "mmes": {"type": "array", "items": ref("Mme")},
                    "imsi_acl": ref("ImsiAcl"), "reserved": {"type": "boolean"},
                    "cells": {"type": "array", "items": {"type": "string"}},
                },
            },
            "state": {"enum": ["active", "degraded", "failed"],
                      "description": "active: provisioned and every node connected; degraded: "
                                     "a node of the slice is not connected."},
            "version": {"type": "integer", "minimum": 1},
            "created_at": TIMESTAMP,
            "updated_at": TIMESTAMP,
            "last_transaction": nullable(ref("Transaction")),
            "nodes": {"type": "array", "items": {
                "type": "object", "required": ["node", "connection"],
                "properties": {"node": {"type": "string"}, "connection": {"type": "string"}}}},
        },
    },
    "SliceList": {
        "type": "object", "required": ["items", "count"],
        "properties": {"items": {"type": "array", "items": ref("Slice")},
                       "count": {"type": "integer"}},
    },
    "DeleteResult": {
        "type": "object", "required": ["deleted", "transaction"],
        "properties": {"deleted": {"type": "string"}, "transaction": ref("Transaction")},
    },
    # -- nodes ------------------------------------------------------------------
    "Radio": {
        "type": "object", "additionalProperties": False, "required": ["name", "band", "channel"],
        "properties": {
            "name": ref("InterfaceName"),
            "band": {"enum": ["2.4ghz", "5ghz", "6ghz"]},
            "channel": {"type": "integer", "minimum": 1, "maximum": 233},
            "airtime_scheduler": {"type": "boolean"},
            "max_vifs": {"type": "integer", "minimum": 1, "maximum": 16},
        },
    },
    "NodeRequest": {
        "type": "object", "additionalProperties": False,
        "required": ["name", "kind", "address", "host_key"],
        "properties": {
            "name": ref("NodeName"),
            "kind": {"enum": ["wifi", "lte"]},
            "address": {"type": "string", "minLength": 1, "maxLength": 253,
                        "pattern": "^[A-Za-z0-9.:_-]+$",
                        "description": "IP address or host name of the node's NETCONF server."},
            "port": {"type": "integer", "minimum": 1, "maximum": 65535, "default": 830},
            "host_key": {"type": "string", "pattern": "^SHA256:[A-Za-z0-9+/]{43}$",
                         "description": "OpenSSH SHA256 fingerprint of the node's SSH host key; "
                                        "the controller refuses any other key."},
            "username": {"type": "string", "minLength": 1, "maxLength": 32,
                         "pattern": "^[a-z_][a-z0-9_.-]*$", "default": "ransdn"},
            "description": {"type": "string", "maxLength": 256},
            "radios": {"type": "array", "maxItems": 16, "items": ref("Radio"),
                       "description": "Radios to assume until the node reports its own."},
        },
    },
    "Connection": {
        "type": "object", "required": ["state", "last_error"],
        "properties": {
            "state": {"enum": ["connecting", "connected", "unable-to-connect", "disabled"]},
            "since": nullable(TIMESTAMP),
            "last_error": nullable({"type": "string"}),
            "attempts": {"type": "integer"},
            "next_retry_at": nullable(TIMESTAMP),
            "session_id": nullable({"type": "string"}),
        },
    },
    "Node": {
        "type": "object",
        "required": ["name", "kind", "address", "port", "host_key", "connection", "radios"],
        "properties": {
            "name": {"type": "string"}, "kind": {"enum": ["wifi", "lte"]},
            "address": {"type": "string"}, "port": {"type": "integer"},
            "host_key": {"type": "string"}, "username": {"type": "string"},
            "description": {"type": "string"}, "created_at": TIMESTAMP,
            "connection": ref("Connection"),
            "capabilities": {"type": "array", "items": {"type": "string"}},
            "radios": {"type": "array", "items": ref("Radio")},
            "declared_radios": {"type": "array", "items": ref("Radio")},
            "cell": nullable(ref("Cell")),
        },
    },
    "NodeList": {
        "type": "object", "required": ["items", "count"],
        "properties": {"items": {"type": "array", "items": ref("Node")},
                       "count": {"type": "integer"}},
    },
    # -- LTE --------------------------------------------------------------------
    "CellSlice": {
        "type": "object", "required": ["slice", "plmn", "mmes", "attached_ues"],
        "properties": {
            "slice": {"type": "string"}, "tenant": nullable({"type": "string"}),
            "plmn": {"type": "string"}, "reserved": {"type": "boolean"},
            "broadcast": nullable({"type": "boolean"}),
            "imsi_acl": {"type": "object"},
            "mmes": {"type": "array", "items": {"type": "object"}},
            "attached_ues": {"type": "integer"}, "attach_accepted": {"type": "integer"},
            "attach_rejected": {"type": "integer"},
        },
    },
    "Cell": {
        "type": "object", "required": ["cell", "plmns", "slices"],
        "properties": {
            "cell": {"type": "string"}, "oper_status": nullable({"type": "string"}),
            "plmns": {"type": "array", "items": {"type": "string"}},
            "rejected_attaches": {"type": "integer"},
            "slices": {"type": "array", "items": ref("CellSlice")},
            "connection": {"type": "string"}, "live": {"type": "boolean"},
        },
    },
    "CellList": {
        "type": "object", "required": ["items"],
        "properties": {"items": {"type": "array", "items": ref("Cell")}},
    },
    "SliceCellStatus": {
        "type": "object", "required": ["cell", "reachable", "configured"],
        "properties": {
            "cell": {"type": "string"}, "reachable": {"type": "boolean"},
            "configured": {"type": "boolean"}, "broadcast": nullable({"type": "boolean"}),
            "s1_state": nullable({"enum": ["up", "connecting", "down"]}),
            "mmes": {"type": "array", "items": {"type": "object"}},
            "attached_ues": {"type": "integer"}, "attach_accepted": {"type": "integer"},
            "attach_rejected": {"type": "integer"},
        },
    },
    "SliceLteStatus": {
        "type": "object", "required": ["slice", "cells"],
        "properties": {"slice": {"type": "string"},
                       "cells": {"type": "array", "items": ref("SliceCellStatus")}},
    },
    # -- SLA --------------------------------------------------------------------
    "SlaEntry": {
        "type": "object", "required": ["slice", "target", "achieved"],
        "description": "SLA compliance of a slice in one contention domain, from the global "
                       "airtime scheduler's last control period. Shares are percent of the "
                       "domain's channel time.",
        "properties": {
            "slice": {"type": "string"}, "tenant": {"type": "string"},
            "domain": {"type": "string",
                       "description": "Contention domain: radios on one channel that all hear "
                                      "each other (a maximal clique of the contention graph)."},
            "band": {"type": "string"}, "channel": {"type": "integer"},
            "radios": {"type": "array", "items": {"type": "string"},
                       "description": "Member radios as node/radio."},
            "guaranteed": {"type": "number",
                           "description": "The slice's guaranteed share of the domain when every "
                                          "slice there has backlog."},
            "target": {"type": "number",
                       "description": "Entitlement this period: the weighted, demand-aware "
                                      "max-min split of the domain (airtime others leave unused "
                                      "goes to slices with backlog)."},
            "achieved": {"type": "number"},
            "error": {"type": "number", "description": "target - achieved, percentage points."},
            "backlogged": {"type": "boolean"},
            "state": {"enum": ["ok", "violated"]},
            "since": TIMESTAMP,
            "cause": nullable({"enum": ["co-channel-contention", "radio-saturated", "throttled",
                                        "no-backlog"]}),
            "violation": nullable({"type": "object", "properties": {
                "since": TIMESTAMP, "until": nullable(TIMESTAMP), "cause": {"type": "string"}}}),
        },
    },
    "SlaReport": {
        "type": "object", "required": ["items"],
        "properties": {"slice": {"type": "string"},
                       "items": {"type": "array", "items": ref("SlaEntry")}},
    },
    "AirtimeStatus": {
        "type": "object", "required": ["enabled", "policy", "policies"],
        "description": "The global airtime scheduler's control loop.",
        "properties": {
            "enabled": {"type": "boolean"}, "period": {"type": "number"},
            "policy": {"type": "string"},
            "policies": {"type": "array", "items": {"type": "string"}},
            "periods_run": {"type": "integer"},
            "last_period": {"type": "object"}, "last_push": {"type": "object"},
        },
    },
    "AirtimePolicyRequest": {
        "type": "object", "additionalProperties": False, "required": ["policy"],
        "properties": {"policy": {"type": "string", "minLength": 1, "maxLength": 64,
                                  "pattern": "^[a-z0-9-]+$"}},
    },
    # -- events, controller, problems -------------------------------------------
    "Event": {
        "type": "object", "required": ["seq", "time", "kind", "severity", "message"],
        "properties": {
            "seq": {"type": "integer"}, "time": TIMESTAMP, "kind": {"type": "string"},
            "severity": {"enum": ["info", "warning", "error"]},
            "node": nullable({"type": "string"}), "slice": nullable({"type": "string"}),
            "message": {"type": "string"}, "details": {"type": "object"},
        },
    },
    "EventPage": {
        "type": "object", "required": ["items", "next_after"],
        "properties": {"items": {"type": "array", "items": ref("Event")},
                       "next_after": nullable({"type": "integer"})},
    },
    "ControllerInfo": {
        "type": "object", "required": ["version", "ssh_public_key", "ssh_key_fingerprint"],
        "properties": {
            "version": {"type": "string"},
            "ssh_public_key": {"type": "string",
                               "description": "Install in each node's authorized keys."},
            "ssh_key_fingerprint": {"type": "string"},
            "schema_version": {"type": "integer"},
        },
    },
    "Health": {
        "type": "object", "required": ["status"],
        "properties": {"status": {"enum": ["ok"]}, "nodes": {"type": "object"},
                       "slices": {"type": "integer"}},
    },
    "FieldError": {
        "type": "object", "required": ["field", "reason"],
        "properties": {"field": {"type": "string"}, "reason": {"type": "string"}},
    },
    "Problem": {
        "type": "object", "required": ["type", "title", "status"],
        "description": "RFC 9457 problem details.",
        "properties": {
            "type": {"type": "string"}, "title": {"type": "string"},
            "status": {"type": "integer"}, "detail": {"type": "string"},
            "instance": {"type": "string"},
            "errors": {"type": "array", "items": ref("FieldError")},
            "transaction": ref("Transaction"),
            "slices": {"type": "array", "items": {"type": "string"}},
        },
    },
}
