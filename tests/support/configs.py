"""Configuration snippets for the ransdn YANG modules, as NETCONF XML.

Builders return the content of a ``<config>`` element; :func:`config` wraps
it.  They only assemble XML: whether it is valid is the agent's business.
"""

from __future__ import annotations

BASE_NS = "urn:ietf:params:xml:ns:netconf:base:1.0"
WIFI_NS = "urn:ransdn:params:xml:ns:yang:ransdn-wifi"
LTE_NS = "urn:ransdn:params:xml:ns:yang:ransdn-lte"
SIM_NS = "urn:ransdn:params:xml:ns:yang:ransdn-sim"

PSK = "0123456789abcdef" * 4


def config(content: str) -> str:
    return f'<config xmlns="{BASE_NS}" xmlns:nc="{BASE_NS}">{content}</config>'


def wifi(radios: str, attrs: str = "") -> str:
    return f'<wifi-node xmlns="{WIFI_NS}"{attrs}>{radios}</wifi-node>'


def radio(vifs: str = "", name: str = "phy0", band: str = "2.4ghz", channel: int | str = 6,
          extra: str = "", attrs: str = "") -> str:
    return (
        f"<radio{attrs}><name>{name}</name><band>{band}</band><channel>{channel}</channel>"
        f"{extra}{vifs}</radio>"
    )


def vif(name: str, ssid: str, share: str | int = 10, *, tenant: str | None = None, vlan: int | str | None = None,
        psk: str | None = None, cap: str | int | None = None, extra: str = "", attrs: str = "") -> str:
    parts = [f"<vif{attrs}><name>{name}</name><ssid>{ssid}</ssid><tenant>{tenant or 't-' + name}</tenant>"]
    if vlan is not None:
        parts.append(f"<vlan>{vlan}</vlan>")
    if psk is not None:
        parts.append(f"<security><mode>wpa2-psk</mode><psk>{psk}</psk></security>")
    airtime = f"<guaranteed-share>{share}</guaranteed-share>"
    if cap is not None:
        airtime += f"<cap>{cap}</cap>"
    parts.append(f"<airtime>{airtime}</airtime>{extra}</vif>")
    return "".join(parts)


def lte(slices: str, cell: str = "") -> str:
    return f'<lte-cell xmlns="{LTE_NS}">{cell}{slices}</lte-cell>'


def plmn_slice(sid: str, mcc: str = "001", mnc: str = "01", *, imsis: list[str] | None = None,
               prefixes: list[str] | None = None, mme: str = "192.0.2.1", attrs: str = "") -> str:
    acl = ""
    if imsis or prefixes:
        acl = "<imsi-acl>" + "".join(f"<imsi>{i}</imsi>" for i in imsis or []) + "".join(
            f"<imsi-prefix>{p}</imsi-prefix>" for p in prefixes or []
        ) + "</imsi-acl>"
    return (
        f"<slice{attrs}><id>{sid}</id><tenant>t-{sid}</tenant>"
        f"<plmn><mcc>{mcc}</mcc><mnc>{mnc}</mnc></plmn>"
        f"<mme><address>{mme}</address><port>36412</port></mme>{acl}</slice>"
    )


def six_slices_with_imsis(per_slice: int = 512) -> str:
    """The benchmark's cell: 6 PLMN slices, each with ``per_slice`` IMSIs."""
    return lte(
        "".join(
            plmn_slice(
                f"s{i}", mnc=f"{i + 1:02d}",
                imsis=[f"0010{i + 1}{n:010d}" for n in range(per_slice)],
            )
            for i in range(6)
        )
    )
