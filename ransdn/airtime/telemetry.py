"""What the global scheduler is told each control period.

One :class:`Telemetry` per period: a sample of every radio and every vif the
controller could read, with cumulative counters exactly as the nodes report
them (``ransdn-wifi:wifi-node-state``), plus each vif's *contract* — the
guaranteed share and cap of its slice intent.  The contract is the SLA; the
guaranteed share and cap in effect on the node are what the scheduler last
set, and may differ.

Shares are percent, as in YANG and REST; airtime and channel time are
microseconds.  :func:`radio_samples_from_state` turns a node's RFC 7951
state tree into samples so that the controller's service layer needs no
knowledge of the scheduler's internals.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class VifContract:
    """The guarantee a slice intent gives one vif."""

    slice: str
    share: float
    cap: float | None = None


@dataclass(frozen=True)
class RadioSample:
    """One radio: where it transmits, whom it hears, its channel survey."""

    node_id: str
    radio: str
    band: str
    channel: int
    mac: str | None
    #: BSSIDs of the radio's own vifs.
    bssids: tuple[str, ...]
    #: BSSIDs the radio hears (its neighbour list).
    heard: tuple[str, ...]
    channel_time_us: int
    busy_time_us: int
    tx_time_us: int

    @property
    def key(self) -> tuple[str, str]:
        return (self.node_id, self.radio)


@dataclass(frozen=True)
class VifSample:
    """One vif: its contract, what is applied, and its airtime counters."""

    node_id: str
    radio: str
    vif: str
    #: Who holds the guarantee: the slice id (or the tenant when the vif
    #: belongs to no slice).  Fairness and SLAs are per slice.
    slice: str
    contract_share: float
    contract_cap: float | None
    measured_us: int
    backlogged_us: int
    throttled_us: int
    applied_share: float | None = None
    applied_cap: float | None = None
    #: Frames queued at the sample (a gauge), when the node reports it.
    backlog_packets: int | None = None
    #: Frames dropped before transmission (a counter).
    drops: int = 0

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.node_id, self.radio, self.vif)

    @property
    def radio_key(self) -> tuple[str, str]:
        return (self.node_id, self.radio)


@dataclass(frozen=True)
class Telemetry:
    """Every sample of one control period."""

    #: Wall-clock time of the sample, seconds since the epoch.
    time: float
    radios: Sequence[RadioSample]
    vifs: Sequence[VifSample]


class TelemetryError(ValueError):
    """A sample contradicts itself or the rest of the period."""


ContractLookup = Callable[[str, str, str, Mapping[str, Any]], VifContract | None]


def _int(value: Any, where: str) -> int:
    # RFC 7951 prints 64-bit integers as strings.
    if value is None:
        return 0
    try:
        return int(value)
    except (TypeError, ValueError):
        raise TelemetryError(f"{where}: not an integer: {value!r}") from None


def _share(value: Any, where: str) -> float | None:
    # decimal64 arrives as a string.
    if value is None:
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        raise TelemetryError(f"{where}: not a share: {value!r}") from None


def radio_samples_from_state(
    node_id: str,
    state: Mapping[str, Any],
    contract: ContractLookup,
) -> tuple[list[RadioSample], list[VifSample]]:
    """Samples from one node's ``ransdn-wifi:wifi-node-state`` tree.

    ``contract(node_id, radio, vif, vif_state)`` returns the vif's contract
    from the slice intents, or ``None`` for a vif no intent owns (it is then
    left out: the scheduler does not touch what it was not asked to manage).
    """
    root = state.get("ransdn-wifi:wifi-node-state", state)
    radios: list[RadioSample] = []
    vifs: list[VifSample] = []
    for radio in root.get("radio", []):
        name = radio["name"]
        at = f"{node_id}/{name}"
        survey = radio.get("survey", {})
        own = radio.get("vif", [])
        radios.append(
            RadioSample(
                node_id=node_id,
                radio=name,
                band=radio["band"],
                channel=int(radio["channel"]),
                mac=radio.get("mac-address"),
                bssids=tuple(v["bssid"] for v in own if v.get("bssid")),
                heard=tuple(n["bssid"] for n in radio.get("neighbor", [])),
                channel_time_us=_int(survey.get("channel-time"), f"{at} survey channel-time"),
                busy_time_us=_int(survey.get("busy-time"), f"{at} survey busy-time"),
                tx_time_us=_int(survey.get("tx-time"), f"{at} survey tx-time"),
            )
        )
        for vif in own:
            terms = contract(node_id, name, vif["name"], vif)
            if terms is None:
                continue
            airtime = vif.get("airtime", {})
            counters = vif.get("counters", {})
            where = f"{at}/{vif['name']} airtime"
            vifs.append(
                VifSample(
                    node_id=node_id,
                    radio=name,
                    vif=vif["name"],
                    slice=terms.slice,
                    contract_share=terms.share,
                    contract_cap=terms.cap,
                    measured_us=_int(airtime.get("measured"), f"{where} measured"),
                    backlogged_us=_int(airtime.get("backlogged-time"), f"{where} backlogged-time"),
                    throttled_us=_int(airtime.get("throttled-time"), f"{where} throttled-time"),
                    applied_share=_share(airtime.get("guaranteed-share"), f"{where} guaranteed-share"),
                    applied_cap=_share(airtime.get("cap"), f"{where} cap"),
                    backlog_packets=(
                        None
                        if counters.get("backlog-packets") is None
                        else _int(counters["backlog-packets"], f"{at}/{vif['name']} backlog-packets")
                    ),
                    drops=_int(counters.get("tx-drops"), f"{at}/{vif['name']} tx-drops"),
                )
            )
    return radios, vifs
