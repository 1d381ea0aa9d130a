"""Operational state of a Wi-Fi node as ``ransdn-wifi:wifi-node-state``.

Pure functions from what the backend read (iw, hostapd, the airtime
module) to RFC 7951 JSON: 64-bit counters and decimal64 values are
strings, as libyang prints them.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from agent.backends.linux.airtime_netlink import PhyState, StationEstimate, VifState
from agent.backends.linux.airtime_uapi import SHARE_FULL, Overhead, Source
from agent.backends.linux.config import RadioConf, VifConf, psk_sha256
from agent.backends.linux.wireless import PhyInfo, StationInfo, Survey, VifInfo, band_of_frequency

WIDTHS = {20: "20mhz", 40: "40mhz", 80: "80mhz", 160: "160mhz"}


@dataclass(frozen=True)
class VifView:
    """What was read about one configured vif."""

    conf: VifConf
    info: VifInfo | None           #: None while the vif does not exist
    hostapd: dict[str, str]
    stations: list[StationInfo]
    airtime: VifState | None       #: None without the module or its qdisc
    rx_bytes: int
    rx_packets: int


def percent(basis_points: int) -> str:
    return str((Decimal(basis_points) / 100).quantize(Decimal("0.01")))


def u64(value: int) -> str:
    return str(max(0, int(value)))


def gauge32(value: int) -> int:
    return max(0, min(int(value), 0xFFFFFFFF))


def congestion(value: float) -> str:
    clamped = min(max(value, 0.001), 1000.0)
    return str(Decimal(repr(clamped)).quantize(Decimal("0.001")))


def _airtime(conf: VifConf, a: VifState | None) -> dict:
    out: dict = {"guaranteed-share": percent(conf.share)}
    if conf.cap is not None:
        out["cap"] = percent(conf.cap)
    if a is None:
        return out
    out.update({
        "estimated": u64(a.estimated_us),
        "measured": u64(a.measured_us),
        "source": "tx-status" if a.source == Source.TX_STATUS else "estimate",
        "borrowed": u64(a.borrowed_us),
        "credit": str(int(a.credit_us)),
        "congestion-factor": congestion(a.congestion),
        "throttled-time": u64(a.throttled_us),
        "backlogged-time": u64(a.backlogged_us),
    })
    return out


def _counters(v: VifView) -> dict:
    a = v.airtime
    out = {"rx-packets": u64(v.rx_packets), "rx-bytes": u64(v.rx_bytes)}
    if a is not None:
        out.update({
            "tx-packets": u64(a.tx_packets), "tx-bytes": u64(a.tx_bytes),
            "tx-drops": u64(a.drops), "backlog-packets": gauge32(a.backlog_packets),
            "backlog-bytes": gauge32(a.backlog_bytes),
        })
    else:
        out.update({
            "tx-packets": u64(sum(s.tx_packets for s in v.stations)),
            "tx-bytes": u64(sum(s.tx_bytes for s in v.stations)),
        })
    return out


def vif_state(v: VifView) -> dict:
    c = v.conf
    out: dict = {"name": c.name, "ssid": c.ssid, "tenant": c.tenant}
    if c.slice_id is not None:
        out["slice-id"] = c.slice_id
    if c.vlan is not None:
        out["vlan"] = c.vlan
    if v.info is not None and v.info.mac:
        out["bssid"] = v.info.mac
    out["oper-status"] = "up" if v.hostapd.get("state") == "ENABLED" else "down"
    if c.psk is not None:
        out["psk-sha256"] = psk_sha256(c.psk)
    out["station-count"] = gauge32(len(v.stations))
    out["airtime"] = _airtime(c, v.airtime)
    out["counters"] = _counters(v)
    return out


def station_state(s: StationInfo, estimate: StationEstimate | None) -> dict:
    out: dict = {"mac-address": s.mac, "vif": s.ifname}
    if s.signal_dbm is not None:
        out["signal"] = max(-128, min(127, s.signal_dbm))
    if s.tx_bitrate_kbps is not None:
        out["tx-bitrate"] = s.tx_bitrate_kbps
    if s.rx_bitrate_kbps is not None:
        out["rx-bitrate"] = s.rx_bitrate_kbps
    if estimate is not None:
        out["frame-airtime-estimate"] = estimate.frame_us
    out.update({
        "tx-packets": u64(s.tx_packets), "tx-bytes": u64(s.tx_bytes),
        "rx-packets": u64(s.rx_packets), "rx-bytes": u64(s.rx_bytes),
    })
    if s.connected_s is not None:
        out["connected-time"] = s.connected_s
    return out


def radio_state(*, info: PhyInfo, conf: RadioConf | None, vifs: list[VifView],
                survey: Survey | None, module_loaded: bool, phy_airtime: PhyState | None,
                estimates: dict[tuple[str, str], StationEstimate]) -> dict:
    out: dict = {"name": info.name, "mac-address": info.mac}
    running = next((v.info for v in vifs if v.info and v.info.frequency), None)
    if running is not None:
        out["band"] = band_of_frequency(running.frequency)
        out["channel"] = running.channel
        if running.width_mhz in WIDTHS:
            out["channel-width"] = WIDTHS[running.width_mhz]
        out["frequency"] = running.frequency
    elif conf is not None:
        out["band"], out["channel"], out["channel-width"] = conf.band, conf.channel, conf.width
    out["capabilities"] = {
        "airtime-scheduler": module_loaded,
        "tx-status": bool(phy_airtime and phy_airtime.tx_status_seen),
        "max-vifs": min(info.max_ap_vifs, 0xFFFF),
    }
    if phy_airtime is not None:
        out["scheduler"] = {
            "interval": phy_airtime.interval_us,
            "inflight-budget": phy_airtime.inflight_budget_us,
            "overhead-model": "dcf" if phy_airtime.overhead == Overhead.DCF else "none",
            "inflight": phy_airtime.inflight_us,
        }
    elif conf is not None:
        out["scheduler"] = {
            "interval": conf.scheduler.interval_us,
            "inflight-budget": conf.scheduler.inflight_budget_us,
            "overhead-model": conf.scheduler.overhead,
        }
    if survey is not None:
        out["survey"] = {k: u64(ms * 1000) for k, ms in (
            ("channel-time", survey.active_ms), ("busy-time", survey.busy_ms),
            ("tx-time", survey.tx_ms), ("rx-time", survey.rx_ms)) if ms is not None}
    out["vif"] = [vif_state(v) for v in vifs]
    out["station"] = [station_state(s, estimates.get((s.ifname, s.mac)))
                      for v in vifs for s in v.stations]
    return out


__all__ = ["SHARE_FULL", "VifView", "radio_state", "station_state", "vif_state"]
