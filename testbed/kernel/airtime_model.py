"""802.11 channel time of a frame, written from the standard's formulas.

Used by the tests to turn bytes a station *received* into airtime
independently of the kernel module's own accounting: an ERP-OFDM (or
5 GHz OFDM) data PPDU of the MPDU, plus the DCF overhead a saturated
best-effort transmitter pays per frame (AIFS, mean backoff, SIFS and the
ACK at the highest mandatory rate not above the data rate).

IEEE 802.11-2020 17.3.2.4 (OFDM PPDU duration), 19.3.2.x (ERP signal
extension), 10.3.2.3 (AIFS), 10.22.2 (EDCA defaults: AC_BE AIFSN 3,
CWmin 15), 10.6.6.5 (control response rate).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

OFDM_RATES_KBPS = (6000, 9000, 12000, 18000, 24000, 36000, 48000, 54000)
MANDATORY_OFDM_KBPS = (6000, 12000, 24000)


@dataclass(frozen=True)
class Band:
    sifs_us: float
    slot_us: float
    signal_extension_us: float


BAND_2GHZ = Band(sifs_us=10, slot_us=9, signal_extension_us=6)
BAND_5GHZ = Band(sifs_us=16, slot_us=9, signal_extension_us=0)

AIFSN_BE = 3
CWMIN = 15
ACK_BYTES = 14
#: 802.11 data header (3 addresses), LLC/SNAP and FCS, minus the Ethernet header.
MPDU_OVERHEAD = 24 + 8 + 4 - 14


def ofdm_ppdu_us(mpdu_bytes: int, rate_kbps: int, band: Band) -> float:
    """Preamble (16) + SIGNAL (4) + symbols of SERVICE+data+tail bits."""
    bits_per_symbol = rate_kbps * 4 // 1000
    symbols = math.ceil((16 + 8 * mpdu_bytes + 6) / bits_per_symbol)
    return 20 + 4 * symbols + band.signal_extension_us


def ack_rate_kbps(rate_kbps: int) -> int:
    return max(r for r in MANDATORY_OFDM_KBPS if r <= rate_kbps) if rate_kbps >= 6000 else 6000


def dcf_overhead_us(rate_kbps: int, band: Band) -> float:
    aifs = band.sifs_us + AIFSN_BE * band.slot_us
    backoff = CWMIN / 2 * band.slot_us
    ack = ofdm_ppdu_us(ACK_BYTES, ack_rate_kbps(rate_kbps), band)
    return aifs + backoff + band.sifs_us + ack


def frame_airtime_us(eth_bytes: int, rate_kbps: int, band: Band = BAND_2GHZ,
                     qos: bool = False) -> float:
    """Channel time of one Ethernet frame sent as an unaggregated MPDU."""
    mpdu = eth_bytes + MPDU_OVERHEAD + (2 if qos else 0)
    return ofdm_ppdu_us(mpdu, rate_kbps, band) + dcf_overhead_us(rate_kbps, band)
