"""The YANG modules are clean under pyang --strict and yanglint, and their
constraints reject bad instance data by themselves."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

YANG_DIR = Path(__file__).resolve().parent.parent / "yang"
MODULES = sorted(YANG_DIR.glob("*.yang"))


def test_modules_exist():
    names = {p.name.split("@")[0] for p in MODULES}
    assert {"ransdn-types", "ransdn-wifi", "ransdn-lte", "ransdn-sim"} <= names


def test_pyang_strict_is_clean():
    pyang = Path(sys.executable).with_name("pyang")
    res = subprocess.run(
        [str(pyang), "--strict", "-p", str(YANG_DIR), *map(str, MODULES)],
        capture_output=True, text=True,
    )
    assert res.returncode == 0 and res.stdout == "" and res.stderr == "", res.stderr


@pytest.mark.skipif(shutil.which("yanglint") is None, reason="yanglint not installed")
def test_yanglint_is_clean():
    res = subprocess.run(
        ["yanglint", "-p", str(YANG_DIR), *map(str, MODULES)],
        capture_output=True, text=True,
    )
    assert res.returncode == 0 and res.stderr == "", res.stderr


def _lint_data(tmp_path: Path, xml: str) -> subprocess.CompletedProcess:
    data = tmp_path / "data.xml"
    data.write_text(xml)
    return subprocess.run(
        ["yanglint", "-p", str(YANG_DIR), "-t", "config", *map(str, MODULES), str(data)],
        capture_output=True, text=True,
    )


WIFI = '<wifi-node xmlns="urn:ransdn:params:xml:ns:yang:ransdn-wifi">{}</wifi-node>'
LTE = '<lte-cell xmlns="urn:ransdn:params:xml:ns:yang:ransdn-lte">{}</lte-cell>'


def _radio(vifs: str, channel: str = "6", band: str = "2.4ghz") -> str:
    return WIFI.format(
        f"<radio><name>phy0</name><band>{band}</band><channel>{channel}</channel>{vifs}</radio>"
    )


def _vif(name: str, ssid: str, share: str = "10", extra: str = "") -> str:
    return (
        f"<vif><name>{name}</name><ssid>{ssid}</ssid><tenant>t-{name}</tenant>"
        f"<airtime><guaranteed-share>{share}</guaranteed-share></airtime>{extra}</vif>"
    )


def _slice(sid: str, mcc: str = "001", mnc: str = "01", extra: str = "") -> str:
    return (
        f"<slice><id>{sid}</id><tenant>t-{sid}</tenant>"
        f"<plmn><mcc>{mcc}</mcc><mnc>{mnc}</mnc></plmn>"
        "<mme><address>192.0.2.1</address><port>36412</port></mme>"
        f"{extra}</slice>"
    )


PSK = "0123456789abcdef" * 4

VALID = {
    "two vifs 30/70 with cap": _radio(
        _vif("wlan0", "a", "30", "<security><mode>wpa2-psk</mode>"
             f"<psk>{PSK}</psk></security>")
        + _vif("wlan0_1", "b", "70").replace("</airtime>", "<cap>80</cap></airtime>")
    ),
    "six plmn slices": LTE.format("".join(_slice(f"s{i}", mnc=f"{i:02d}") for i in range(6))),
    "imsi acl": LTE.format(_slice("s1", extra=(
        "<imsi-acl><imsi>001010123456789</imsi><imsi-prefix>00101</imsi-prefix></imsi-acl>"))),
}

INVALID = {
    "shares sum to 110": (_radio(_vif("wlan0", "a", "60") + _vif("wlan0_1", "b", "50")),
                          "add up to more than 100 percent"),
    "cap below share": (_radio(_vif("wlan0", "a", "30").replace(
        "</airtime>", "<cap>20</cap></airtime>")), "cap must not be below"),
    "vlan 0": (_radio(_vif("wlan0", "a", extra="<vlan>0</vlan>")), "vlan"),
    "33 byte ssid": (_radio(_vif("wlan0", "x" * 33)), "ssid"),
    "short psk": (_radio(_vif("wlan0", "a", extra=(
        "<security><mode>wpa2-psk</mode><psk>abcd</psk></security>"))), "psk"),
    "wpa2 without psk": (_radio(_vif("wlan0", "a", extra=(
        "<security><mode>wpa2-psk</mode></security>"))), "needs a psk"),
    "duplicate ssid on a radio": (_radio(_vif("wlan0", "a") + _vif("wlan0_1", "a")), "Unique"),
    "channel 36 in 2.4 GHz": (_radio(_vif("wlan0", "a"), channel="36"), "does not exist"),
    "seventh plmn slice": (LTE.format("".join(_slice(f"s{i}", mnc=f"{i:02d}") for i in range(7))),
                           "Too many"),
    "duplicate plmn": (LTE.format(_slice("s1") + _slice("s2")), "Unique"),
    "four digit mnc": (LTE.format(_slice("s1", mnc="0101")), "mnc"),
    "imsi with letters": (LTE.format(_slice("s1", extra="<imsi-acl><imsi>00101abc</imsi></imsi-acl>")),
                          "imsi"),
}


@pytest.mark.skipif(shutil.which("yanglint") is None, reason="yanglint not installed")
@pytest.mark.parametrize("name", sorted(VALID))
def test_valid_data_accepted(tmp_path, name):
    res = _lint_data(tmp_path, VALID[name])
    assert res.returncode == 0, res.stderr


@pytest.mark.skipif(shutil.which("yanglint") is None, reason="yanglint not installed")
@pytest.mark.parametrize("name", sorted(INVALID))
def test_invalid_data_rejected_by_the_model(tmp_path, name):
    xml, expect = INVALID[name]
    res = _lint_data(tmp_path, xml)
    assert res.returncode != 0
    assert expect.lower() in res.stderr.lower(), res.stderr
