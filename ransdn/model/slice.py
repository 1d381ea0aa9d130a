"""The slice intent: what a tenant asked for, independent of any node.

A slice has a tenant and an optional Wi-Fi part (a vif with its own SSID,
security, VLAN and guaranteed airtime share on chosen radios) and an optional
LTE part (a PLMN broadcast on chosen small cells with its MMEs and IMSI ACL).

The API validates the structure of a request document against its JSON
Schema; :func:`slice_spec_from_request` then checks what a schema cannot
(cross-field rules), derives the PSK from a passphrase and builds the value
objects.  The stored form (:meth:`Slice.spec`) holds the PSK, never the
passphrase.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

from ransdn.model.errors import ErrorCollector
from ransdn.model.psk import derive_psk, psk_sha256

SliceState = Literal["active", "degraded", "failed"]
SecurityMode = Literal["open", "wpa2-psk"]

TWO_PLACES = Decimal("0.01")


def share(value: Any) -> Decimal:
    """An airtime share in percent with two fractional digits at most."""
    return Decimal(str(value)).quantize(TWO_PLACES)


def format_share(value: Decimal) -> str:
    """RFC 7951 text of a decimal64 with 2 fraction digits."""
    return str(value.quantize(TWO_PLACES))


@dataclass(frozen=True)
class WifiSecurity:
    mode: SecurityMode = "open"
    #: 64 hex digits, derived from the passphrase; None for open.
    psk: str | None = None

    def public(self) -> dict[str, Any]:
        out: dict[str, Any] = {"mode": self.mode}
        if self.psk:
            out["psk_sha256"] = psk_sha256(self.psk)
        return out


@dataclass(frozen=True)
class WifiNodeRef:
    """A node carrying the slice's vif, and on which of its radios."""

    node: str
    #: Radio names; resolved to every radio of the node at admission when
    #: the request leaves it empty.
    radios: tuple[str, ...] = ()


@dataclass(frozen=True)
class WifiPart:
    ssid: str
    security: WifiSecurity
    guaranteed_share: Decimal
    nodes: tuple[WifiNodeRef, ...]
    cap: Decimal | None = None
    vlan: int | None = None

    def radios(self) -> list[tuple[str, str]]:
        """Every (node, radio) the slice has a vif on."""
        return [(ref.node, r) for ref in self.nodes for r in ref.radios]


@dataclass(frozen=True, order=True)
class Plmn:
    mcc: str
    mnc: str

    def __str__(self) -> str:
        return f"{self.mcc}-{self.mnc}"


@dataclass(frozen=True)
class Mme:
    address: str
    port: int = 36412
    name: str | None = None


@dataclass(frozen=True)
class ImsiAcl:
    default_action: Literal["accept", "reject"] = "reject"
    imsis: tuple[str, ...] = ()
    prefixes: tuple[str, ...] = ()


@dataclass(frozen=True)
class LtePart:
    plmn: Plmn
    mmes: tuple[Mme, ...]
    cells: tuple[str, ...]
    imsi_acl: ImsiAcl = field(default_factory=ImsiAcl)
    reserved: bool = False


@dataclass(frozen=True)
class Slice:
    """A slice intent as stored, with its provisioning status."""

    id: str
    tenant: str
    wifi: WifiPart | None = None
    lte: LtePart | None = None
    description: str = ""
    state: SliceState = "active"
    version: int = 1
    created_at: str = ""
    updated_at: str = ""
    #: Outcome of the last transaction that touched the slice (per node).
    last_transaction: dict[str, Any] | None = None

    def nodes(self) -> set[str]:
        """Every node the slice has configuration on."""
        out: set[str] = set()
        if self.wifi:
            out.update(ref.node for ref in self.wifi.nodes)
        if self.lte:
            out.update(self.lte.cells)
        return out

    def etag(self) -> str:
        return f'"{self.id}-v{self.version}"'

    def with_status(self, **changes: Any) -> Slice:
        return replace(self, **changes)

    # -- stored form (holds the PSK) ---------------------------------------

    def spec(self) -> dict[str, Any]:
        """The intent as JSON, secrets included: for the store only."""
        return _spec(self, public=False)

    def public(self) -> dict[str, Any]:
        """The slice as the API shows it: no PSK, status included."""
        out = _spec(self, public=True)
        out.update(
            state=self.state,
            version=self.version,
            created_at=self.created_at,
            updated_at=self.updated_at,
            last_transaction=self.last_transaction,
        )
        return out


def _spec(s: Slice, *, public: bool) -> dict[str, Any]:
    out: dict[str, Any] = {"id": s.id, "tenant": s.tenant, "description": s.description}
    if s.wifi:
        w = s.wifi
        sec = w.security.public() if public else {"mode": w.security.mode, "psk": w.security.psk}
        if not public and sec["psk"] is None:
            del sec["psk"]
        wifi: dict[str, Any] = {
            "ssid": w.ssid,
            "security": sec,
            "guaranteed_share": float(w.guaranteed_share),
            "nodes": [{"node": r.node, "radios": list(r.radios)} for r in w.nodes],
        }
        if w.cap is not None:
            wifi["cap"] = float(w.cap)
        if w.vlan is not None:
            wifi["vlan"] = w.vlan
        out["wifi"] = wifi
    if s.lte:
        lte = s.lte
        out["lte"] = {
            "plmn": {"mcc": lte.plmn.mcc, "mnc": lte.plmn.mnc},
            "mmes": [_mme_dict(m) for m in lte.mmes],
            "imsi_acl": {
                "default_action": lte.imsi_acl.default_action,
                "imsis": list(lte.imsi_acl.imsis),
                "prefixes": list(lte.imsi_acl.prefixes),
            },
            "reserved": lte.reserved,
            "cells": list(lte.cells),
        }
    return out


def _mme_dict(m: Mme) -> dict[str, Any]:
    d: dict[str, Any] = {"address": m.address, "port": m.port}
    if m.name:
        d["name"] = m.name
    return d


def slice_from_stored(spec: dict[str, Any], **status: Any) -> Slice:
    """Rebuild a :class:`Slice` from :meth:`Slice.spec` output."""
    wifi = lte = None
    if w := spec.get("wifi"):
        sec = w["security"]
        wifi = WifiPart(
            ssid=w["ssid"],
            security=WifiSecurity(sec["mode"], sec.get("psk")),
            guaranteed_share=share(w["guaranteed_share"]),
            cap=share(w["cap"]) if w.get("cap") is not None else None,
            vlan=w.get("vlan"),
            nodes=tuple(WifiNodeRef(n["node"], tuple(n.get("radios", ()))) for n in w["nodes"]),
        )
    if l := spec.get("lte"):
        acl = l.get("imsi_acl") or {}
        lte = LtePart(
            plmn=Plmn(l["plmn"]["mcc"], l["plmn"]["mnc"]),
            mmes=tuple(Mme(m["address"], m.get("port", 36412), m.get("name")) for m in l["mmes"]),
            cells=tuple(l["cells"]),
            imsi_acl=ImsiAcl(
                acl.get("default_action", "reject"),
                tuple(acl.get("imsis", ())),
                tuple(acl.get("prefixes", ())),
            ),
            reserved=bool(l.get("reserved", False)),
        )
    return Slice(id=spec["id"], tenant=spec["tenant"], description=spec.get("description", ""),
                 wifi=wifi, lte=lte, **status)


def slice_from_request(doc: dict[str, Any], slice_id: str,
                       previous: Slice | None = None) -> Slice:
    """Build a slice from a schema-valid request document.

    Checks the rules a JSON Schema cannot state and raises
    :class:`~ransdn.model.errors.InvalidRequest` listing every bad field.
    ``previous`` is the stored slice on modify: a WPA2 slice may then omit
    its passphrase to keep the key, unless the SSID (the PBKDF2 salt)
    changes.
    """
    errs = ErrorCollector()
    if "wifi" not in doc and "lte" not in doc:
        errs.add("", "a slice needs a 'wifi' part, an 'lte' part or both")
    wifi = _wifi_from_request(doc["wifi"], previous, errs) if doc.get("wifi") else None
    lte = _lte_from_request(doc["lte"], errs) if doc.get("lte") else None
    errs.raise_if_any()
    return Slice(id=slice_id, tenant=doc["tenant"], description=doc.get("description", ""),
                 wifi=wifi, lte=lte)


def _decimal_share(value: Any, pointer: str, errs: ErrorCollector) -> Decimal:
    try:
        d = Decimal(str(value))
    except InvalidOperation:
        errs.add(pointer, "not a number")
        return Decimal(0)
    if d != d.quantize(TWO_PLACES):
        errs.add(pointer, "an airtime share has at most two fractional digits")
    if not Decimal(0) <= d <= Decimal(100):
        errs.add(pointer, "an airtime share is a percentage between 0 and 100")
    return d.quantize(TWO_PLACES)


def _wifi_from_request(w: dict[str, Any], previous: Slice | None,
                       errs: ErrorCollector) -> WifiPart:
    ssid = w["ssid"]
    sec = w.get("security") or {"mode": "open"}
    mode = sec.get("mode", "open")
    psk: str | None = None
    if mode == "wpa2-psk":
        if passphrase := sec.get("passphrase"):
            psk = derive_psk(passphrase, ssid)
        elif previous and previous.wifi and previous.wifi.security.psk:
            if previous.wifi.ssid != ssid:
                errs.add("/wifi/security/passphrase",
                         "changing the SSID of a WPA2-PSK slice needs the passphrase again "
                         "(the SSID salts the key)")
            psk = previous.wifi.security.psk
        else:
            errs.add("/wifi/security/passphrase", "WPA2-PSK security needs a passphrase")
    elif sec.get("passphrase"):
        errs.add("/wifi/security/passphrase", "an open network takes no passphrase")
    guaranteed = _decimal_share(w.get("guaranteed_share", 0), "/wifi/guaranteed_share", errs)
    cap = None
    if w.get("cap") is not None:
        cap = _decimal_share(w["cap"], "/wifi/cap", errs)
        if cap < guaranteed:
            errs.add("/wifi/cap", f"the cap ({cap}%) is below the guaranteed share ({guaranteed}%)")
    refs: list[WifiNodeRef] = []
    seen: set[str] = set()
    for i, n in enumerate(w["nodes"]):
        if n["node"] in seen:
            errs.add(f"/wifi/nodes/{i}/node", f"node {n['node']!r} is listed twice")
        seen.add(n["node"])
        radios = tuple(n.get("radios") or ())
        if len(set(radios)) != len(radios):
            errs.add(f"/wifi/nodes/{i}/radios", "a radio is listed twice")
        refs.append(WifiNodeRef(n["node"], radios))
    return WifiPart(ssid=ssid, security=WifiSecurity(mode, psk), guaranteed_share=guaranteed,
                    cap=cap, vlan=w.get("vlan"), nodes=tuple(refs))


def _lte_from_request(l: dict[str, Any], errs: ErrorCollector) -> LtePart:
    mmes = []
    seen_mme: set[tuple[str, int]] = set()
    for i, m in enumerate(l["mmes"]):
        key = (m["address"], m.get("port", 36412))
        if key in seen_mme:
            errs.add(f"/lte/mmes/{i}", f"MME {key[0]} port {key[1]} is listed twice")
        seen_mme.add(key)
        mmes.append(Mme(m["address"], m.get("port", 36412), m.get("name")))
    cells = tuple(l["cells"])
    if len(set(cells)) != len(cells):
        errs.add("/lte/cells", "a cell is listed twice")
    acl = l.get("imsi_acl") or {}
    imsis = tuple(acl.get("imsis", ()))
    prefixes = tuple(acl.get("prefixes", ()))
    if len(set(imsis)) != len(imsis):
        errs.add("/lte/imsi_acl/imsis", "an IMSI is listed twice")
    if len(set(prefixes)) != len(prefixes):
        errs.add("/lte/imsi_acl/prefixes", "an IMSI prefix is listed twice")
    plmn = Plmn(l["plmn"]["mcc"], l["plmn"]["mnc"])
    return LtePart(plmn=plmn, mmes=tuple(mmes), cells=cells,
                   imsi_acl=ImsiAcl(acl.get("default_action", "reject"), imsis, prefixes),
                   reserved=bool(l.get("reserved", False)))
