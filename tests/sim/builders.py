"""RFC 7951 configuration trees for the tests, the way libyang prints them."""

from __future__ import annotations


def vif(name: str, ssid: str, *, tenant: str = "acme", enabled: bool = True,
        share: str = "10", psk: str | None = None, **extra) -> dict:
    v = {"name": name, "ssid": ssid, "tenant": tenant, "enabled": enabled,
         "airtime": {"guaranteed-share": share}}
    if psk is not None:
        v["security"] = {"mode": "wpa2-psk", "psk": psk}
    v.update(extra)
    return v


def radio(name: str = "phy0", *vifs: dict, band: str = "2.4ghz", channel: int = 6) -> dict:
    r = {"name": name, "band": band, "channel": channel}
    if vifs:
        r["vif"] = list(vifs)
    return r


def wifi(*radios: dict) -> dict:
    return {"ransdn-wifi:wifi-node": {"radio": list(radios)}} if radios else {}


def lte_slice(sid: str, mcc: str = "001", mnc: str = "01", *, mmes=(("10.0.0.1", 36412),),
              imsis=(), prefixes=(), default: str = "reject") -> dict:
    acl = {"default-action": default}
    if imsis:
        acl["imsi"] = list(imsis)
    if prefixes:
        acl["imsi-prefix"] = list(prefixes)
    return {"id": sid, "tenant": f"t-{sid}", "plmn": {"mcc": mcc, "mnc": mnc},
            "mme": [{"address": a, "port": p} for a, p in mmes], "imsi-acl": acl}


def lte(*slices: dict, enabled: bool = True, **cell) -> dict:
    c = {"enabled": enabled, **{k.replace("_", "-"): v for k, v in cell.items()}}
    tree = {"cell": c}
    if slices:
        tree["slice"] = list(slices)
    return {"ransdn-lte:lte-cell": tree}
