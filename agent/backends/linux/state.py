"""Operational state of a Wi-Fi node as ``ransdn-wifi:wifi-node-state``.

Pure functions from what one state read gathered (:class:`Observed`) to
RFC 7951 JSON: 64-bit counters and decimal64 values are strings, as
libyang prints them.  A read may skip sources a request does not need;
the leaves that would come from a skipped source are left out, never
guessed, so whatever is reported is what a full read would report.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from agent.backends.linux.airtime import AirtimeSnapshot
from agent.backends.linux.airtime_netlink import StationEstimate, VifState
from agent.backends.linux.airtime_uapi import SHARE_FULL, Overhead, Source
from agent.backends.linux.wireless import PhyInfo, StationInfo, Survey, VifInfo, band_of_frequency
from agent.backends.rfc7951 import decimal64, gauge32, int64, uint64
from agent.backends.wifi_config import RadioConfig, VifConfig, psk_sha256

WIDTHS = {20: "20mhz", 40: "40mhz", 80: "80mhz", 160: "160mhz"}
BANDS = ("2.4ghz", "5ghz", "6ghz")


@dataclass(frozen=True)
class Observed:
    """What one state read gathered.  A source the read did not consult is
    None (or, for stations, absent from the dict)."""

    #: Permanent address of each phy (sysfs).
    phy_macs: dict[str, str]
    #: Configured, enabled vifs whose interface exists, and its address (sysfs).
    live: dict[str, str]
    #: Octets and frames received per live vif (sysfs).
    rx: dict[str, tuple[int, int]]
    #: ``iw phy info`` per phy.
    phy_info: dict[str, PhyInfo] | None = None
    #: Per radio, the interface whose channel it reports (``iw dev``).
    channels: dict[str, VifInfo] | None = None
    airtime: AirtimeSnapshot | None = None
    #: hostapd's STATUS per live vif.
    hostapd: dict[str, dict[str, str]] | None = None
    #: ``iw station dump`` per live vif that was read.
    stations: dict[str, list[StationInfo]] = field(default_factory=dict)
    #: Every live vif's station dump was read.
    all_stations: bool = False
    #: The channel survey per radio.
    surveys: dict[str, Survey | None] | None = None


def percent(basis_points: int) -> str:
    return str((Decimal(basis_points) / 100).quantize(Decimal("0.01")))


def _airtime(conf: VifConfig, a: VifState | None) -> dict:
    out: dict = {"guaranteed-share": percent(conf.share_bp)}
    if conf.cap is not None:
        out["cap"] = percent(conf.cap_bp)  # type: ignore[arg-type]
    if a is None:
        return out
    out.update({
        "estimated": uint64(a.estimated_us),
        "measured": uint64(a.measured_us),
        "source": "tx-status" if a.source == Source.TX_STATUS else "estimate",
        "borrowed": uint64(a.borrowed_us),
        "credit": int64(a.credit_us),
        "congestion-factor": decimal64(a.congestion, 3, 0.001, 1000.0),
        "throttled-time": uint64(a.throttled_us),
        "backlogged-time": uint64(a.backlogged_us),
    })
    return out


def _counters(conf: VifConfig, seen: Observed) -> dict | None:
    """Counters come with the module's figures; without the module (or
    its qdisc) the tx side is the sum over the vif's stations."""
    if seen.airtime is None:
        return None
    rx_bytes, rx_packets = seen.rx.get(conf.name, (0, 0))
    out: dict = {"rx-packets": uint64(rx_packets), "rx-bytes": uint64(rx_bytes)}
    a = seen.airtime.vifs.get(conf.name)
    if a is not None:
        out.update({
            "tx-packets": uint64(a.tx_packets), "tx-bytes": uint64(a.tx_bytes),
            "tx-drops": uint64(a.drops), "backlog-packets": gauge32(a.backlog_packets),
            "backlog-bytes": gauge32(a.backlog_bytes),
        })
    elif conf.name in seen.stations or conf.name not in seen.live:
        stations = seen.stations.get(conf.name, [])
        out.update({
            "tx-packets": uint64(sum(s.tx_packets for s in stations)),
            "tx-bytes": uint64(sum(s.tx_bytes for s in stations)),
        })
    return out


def vif_state(c: VifConfig, seen: Observed) -> dict:
    out: dict = {"name": c.name, "ssid": c.ssid, "tenant": c.tenant}
    if c.slice_id is not None:
        out["slice-id"] = c.slice_id
    if c.vlan is not None:
        out["vlan"] = c.vlan
    if seen.live.get(c.name):
        out["bssid"] = seen.live[c.name]
    if seen.hostapd is not None:
        up = seen.hostapd.get(c.name, {}).get("state") == "ENABLED"
        out["oper-status"] = "up" if up else "down"
    if c.psk is not None:
        out["psk-sha256"] = psk_sha256(c.psk)
    if seen.all_stations:
        out["station-count"] = gauge32(len(seen.stations.get(c.name, [])))
    out["airtime"] = _airtime(c, seen.airtime.vifs.get(c.name) if seen.airtime else None)
    counters = _counters(c, seen)
    if counters is not None:
        out["counters"] = counters
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
        "tx-packets": uint64(s.tx_packets), "tx-bytes": uint64(s.tx_bytes),
        "rx-packets": uint64(s.rx_packets), "rx-bytes": uint64(s.rx_bytes),
    })
    if s.connected_s is not None:
        out["connected-time"] = s.connected_s
    return out


def _idle_channel(info: PhyInfo) -> tuple[str, int] | None:
    """Where a radio that is neither configured nor on a channel reports
    itself: its first usable channel (band and channel are mandatory)."""
    for band in BANDS:
        if info.channels.get(band):
            return band, min(info.channels[band])
    return None


def _channel(name: str, conf: RadioConfig | None, seen: Observed) -> dict:
    if seen.channels is None:
        return {}
    running = seen.channels.get(name)
    if running is not None and running.frequency:
        out = {"band": band_of_frequency(running.frequency), "channel": running.channel}
        if running.width_mhz in WIDTHS:
            out["channel-width"] = WIDTHS[running.width_mhz]
        out["frequency"] = running.frequency
        return out
    if conf is not None:
        return {"band": conf.band, "channel": conf.channel, "channel-width": conf.channel_width}
    idle = _idle_channel(seen.phy_info[name]) if seen.phy_info and name in seen.phy_info else None
    return {"band": idle[0], "channel": idle[1]} if idle else {}


def radio_state(name: str, conf: RadioConfig | None, seen: Observed) -> dict:
    out: dict = {"name": name}
    if name in seen.phy_macs:
        out["mac-address"] = seen.phy_macs[name]
    out.update(_channel(name, conf, seen))
    capabilities: dict = {}
    phy_airtime = seen.airtime.phys.get(name) if seen.airtime else None
    if seen.airtime is not None:
        capabilities["airtime-scheduler"] = seen.airtime.loaded
        capabilities["tx-status"] = bool(phy_airtime and phy_airtime.tx_status_seen)
    if seen.phy_info is not None and name in seen.phy_info:
        capabilities["max-vifs"] = min(seen.phy_info[name].max_ap_vifs, 0xFFFF)
    out["capabilities"] = capabilities
    if phy_airtime is not None:
        out["scheduler"] = {
            "interval": phy_airtime.interval_us,
            "inflight-budget": phy_airtime.inflight_budget_us,
            "overhead-model": "dcf" if phy_airtime.overhead == Overhead.DCF else "none",
            "inflight": phy_airtime.inflight_us,
        }
    elif seen.airtime is not None and conf is not None:
        out["scheduler"] = {
            "interval": conf.scheduler.interval_us,
            "inflight-budget": conf.scheduler.inflight_budget_us,
            "overhead-model": conf.scheduler.overhead_model,
        }
    survey = seen.surveys.get(name) if seen.surveys is not None else None
    if survey is not None:
        out["survey"] = {k: uint64(ms * 1000) for k, ms in (
            ("channel-time", survey.active_ms), ("busy-time", survey.busy_ms),
            ("tx-time", survey.tx_ms), ("rx-time", survey.rx_ms)) if ms is not None}
    vifs = conf.vifs if conf else ()
    out["vif"] = [vif_state(v, seen) for v in vifs]
    if seen.all_stations:
        estimates = seen.airtime.stations if seen.airtime else {}
        out["station"] = [station_state(s, estimates.get((s.ifname, s.mac)))
                          for v in vifs for s in seen.stations.get(v.name, [])]
    return out


__all__ = ["SHARE_FULL", "Observed", "radio_state", "station_state", "vif_state"]
