"""hostapd configuration for one BSS of a multi-BSS radio.

The backend runs one hostapd with only its global control interface and
adds each BSS with ``ADD bss_config=<phy>:<file>``, one file per BSS (so
one BSS can be removed and re-added without touching the others).  Every
file carries the radio-level lines too; hostapd takes them from the
radio's first BSS.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_HEX64 = re.compile(r"[0-9a-fA-F]{64}")
#: OFDM rates in hostapd's 100 kbit/s units (no DSSS/CCK).
OFDM_RATES = (60, 90, 120, 180, 240, 360, 480, 540)


class ConfigError(ValueError):
    """The configuration cannot be expressed for hostapd."""


@dataclass(frozen=True)
class HostapdRadio:
    """Radio-level settings shared by all BSSes of a phy."""

    phy: str
    band: str                      #: "2.4ghz", "5ghz" or "6ghz"
    channel: int
    width: str = "20mhz"
    tx_power_dbm: int | None = None
    country: str | None = None
    #: No HT, OFDM rates only with 6 Mb/s basic: makes per-vif legacy
    #: rate masks (``iw set bitrates legacy-2.4 ...``) effective.
    legacy_ofdm_only: bool = False
    extra: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class BssConfig:
    """One virtual AP."""

    ifname: str
    ssid: str
    psk: str | None = None         #: 64 hex digits: WPA2-PSK; None: open
    bssid: str | None = None
    bridge: str | None = None
    extra: tuple[tuple[str, str], ...] = field(default=())


def _check_value(key: str, value: str) -> str:
    if "\n" in value or "\r" in value or "\0" in value:
        raise ConfigError(f"hostapd setting {key} contains a line break")
    return value


def _hw_mode(radio: HostapdRadio) -> str:
    if radio.band == "2.4ghz":
        return "g"
    if radio.band in ("5ghz", "6ghz"):
        return "a"
    raise ConfigError(f"unknown band {radio.band!r}")


def _width_lines(radio: HostapdRadio) -> list[str]:
    if radio.legacy_ofdm_only:
        if radio.width != "20mhz":
            raise ConfigError("legacy OFDM-only radios are 20 MHz wide")
        return ["ieee80211n=0"]
    lines = ["ieee80211n=1", "wmm_enabled=1"]
    if radio.width == "20mhz":
        return lines
    if radio.width == "40mhz":
        plus = radio.channel <= 7 if radio.band == "2.4ghz" else (radio.channel // 4) % 2 == 1
        return lines + [f"ht_capab=[HT40{'+' if plus else '-'}]"]
    if radio.width == "80mhz" and radio.band == "5ghz":
        centre = 36 + ((radio.channel - 36) // 16) * 16 + 6
        plus = (radio.channel // 4) % 2 == 1
        return lines + [f"ht_capab=[HT40{'+' if plus else '-'}]", "ieee80211ac=1",
                        "vht_oper_chwidth=1", f"vht_oper_centr_freq_seg0_idx={centre}"]
    raise ConfigError(f"{radio.width} channels on {radio.band} are not supported")


def radio_lines(radio: HostapdRadio) -> list[str]:
    lines = [
        "driver=nl80211",
        f"hw_mode={_hw_mode(radio)}",
        f"channel={radio.channel}",
    ]
    if radio.band == "6ghz":
        lines.append(f"op_class={131 if radio.width == '20mhz' else 132}")
    if radio.country:
        lines += [f"country_code={_check_value('country_code', radio.country)}",
                  "ieee80211d=1"]
    lines += _width_lines(radio)
    if radio.legacy_ofdm_only:
        lines += ["supported_rates=" + " ".join(map(str, OFDM_RATES)), "basic_rates=60"]
    lines += [f"{k}={_check_value(k, v)}" for k, v in radio.extra]
    return lines


def bss_lines(bss: BssConfig, ctrl_dir: str) -> list[str]:
    if not 1 <= len(bss.ssid.encode()) <= 32:
        raise ConfigError(f"SSID of {bss.ifname} must be 1..32 octets")
    lines = [
        f"interface={_check_value('interface', bss.ifname)}",
        f"ctrl_interface={_check_value('ctrl_interface', ctrl_dir)}",
        # ssid2 with a hex string accepts any octets, newlines included.
        f"ssid2={bss.ssid.encode().hex()}",
        "auth_algs=1",
        "ignore_broadcast_ssid=0",
    ]
    if bss.bssid:
        lines.append(f"bssid={_check_value('bssid', bss.bssid)}")
    if bss.bridge:
        lines.append(f"bridge={_check_value('bridge', bss.bridge)}")
    if bss.psk is not None:
        if not _HEX64.fullmatch(bss.psk):
            raise ConfigError(f"the PSK of {bss.ifname} is not 64 hex digits")
        lines += ["wpa=2", "wpa_key_mgmt=WPA-PSK", "rsn_pairwise=CCMP",
                  f"wpa_psk={bss.psk.lower()}"]
    lines += [f"{k}={_check_value(k, v)}" for k, v in bss.extra]
    return lines


def render_bss_file(radio: HostapdRadio, bss: BssConfig, ctrl_dir: str) -> str:
    """The config file for ``ADD bss_config=<phy>:<file>``."""
    return "\n".join(radio_lines(radio) + bss_lines(bss, ctrl_dir)) + "\n"
