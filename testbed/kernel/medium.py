"""A user-space medium for mac80211_hwsim (its "wmediumd" interface).

Registering on the MAC80211_HWSIM generic netlink family routes every
frame of every radio through this process: we deliver each frame to the
other radios and then report its TX status, with the rates and attempt
counts we choose.  That gives the airtime module real TX status to
measure with (hwsim's built-in medium gives none), lets a test inflate
the attempts so measured airtime exceeds the estimate, and can hold
frames back entirely ("freeze") like a driver that never completes.

Only for low frame rates: Python under TCG is slow.
"""

from __future__ import annotations

import asyncio
import os
import socket
import struct
from dataclasses import dataclass, field

from testbed.kernel.genl_raw import NETLINK_GENERIC, RawGenl, nla

HWSIM_FAMILY = "MAC80211_HWSIM"
CMD_REGISTER, CMD_FRAME, CMD_TX_INFO_FRAME = 1, 2, 3
ATTR_ADDR_RECEIVER, ATTR_ADDR_TRANSMITTER, ATTR_FRAME, ATTR_FLAGS = 1, 2, 3, 4
ATTR_RX_RATE, ATTR_SIGNAL, ATTR_TX_INFO, ATTR_COOKIE, ATTR_FREQ = 5, 6, 7, 8, 19
FLAG_NO_ACK, FLAG_STAT_ACK = 2, 4
NLM_F_REQUEST = 1
TX_MAX_RATES = 4


def radio_addr(radio: int) -> bytes:
    """The address hwsim uses for radio N on its netlink interface."""
    return bytes([0x42, 0, 0, 0, radio, 0])


def parse_attrs(data: bytes) -> dict[int, bytes]:
    out, off = {}, 0
    while off + 4 <= len(data):
        alen, atype = struct.unpack_from("=HH", data, off)
        if alen < 4:
            break
        out[atype & 0x3FFF] = data[off + 4:off + alen]
        off += (alen + 3) & ~3
    return out


@dataclass
class Medium:
    radios: int
    #: Attempts reported for unicast data frames (1 = no retries).
    data_attempts: int = 1
    #: Rate index reported for unicast data frames (None: the first one
    #: mac80211 asked for, which rate control sampling varies).
    data_rate_idx: int | None = None
    #: While set, frames are neither delivered nor completed.
    frozen: bool = False
    frames: int = 0
    held: int = 0
    statuses: int = 0
    _sock: socket.socket | None = None
    _family: int = 0
    _seq: int = 0
    _task: asyncio.Task | None = field(default=None, repr=False)

    async def start(self) -> None:
        raw = RawGenl()
        self._family = raw.family_id(HWSIM_FAMILY)
        raw.close()
        sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_GENERIC)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        sock.bind((0, 0))
        sock.setblocking(False)
        self._sock = sock
        self._send(CMD_REGISTER, b"")
        self._task = asyncio.get_running_loop().create_task(self._run())

    def close(self) -> None:
        """Unregister: hwsim falls back to its built-in medium."""
        if self._task:
            self._task.cancel()
        if self._sock:
            self._sock.close()
            self._sock = None

    def _send(self, cmd: int, payload: bytes) -> None:
        self._seq += 1
        body = struct.pack("=BBH", cmd, 1, 0) + payload
        assert self._sock is not None
        self._sock.send(struct.pack("=IHHII", 16 + len(body), self._family, NLM_F_REQUEST,
                                    self._seq, os.getpid()) + body)

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        assert self._sock is not None
        while True:
            data = await loop.sock_recv(self._sock, 1 << 16)
            off = 0
            while off + 20 <= len(data):
                length, msg_type = struct.unpack_from("=IH", data, off)
                if msg_type == self._family and data[off + 16] == CMD_FRAME:
                    self._on_frame(parse_attrs(data[off + 20:off + length]))
                off += (length + 3) & ~3

    def _on_frame(self, a: dict[int, bytes]) -> None:
        self.frames += 1
        if self.frozen:
            self.held += 1
            return
        tx = a[ATTR_ADDR_TRANSMITTER]
        frame = a[ATTR_FRAME]
        flags = struct.unpack("=I", a[ATTR_FLAGS])[0]
        freq = a.get(ATTR_FREQ, struct.pack("=I", 2412))
        rates = list(struct.unpack("=" + "bB" * TX_MAX_RATES, a[ATTR_TX_INFO][:2 * TX_MAX_RATES]))
        rate_idx = max(rates[0], 0)
        for radio in range(self.radios):
            rx = radio_addr(radio)
            if rx == tx:
                continue
            self._send(CMD_FRAME, nla(ATTR_ADDR_RECEIVER, rx) + nla(ATTR_FRAME, frame) +
                       nla(ATTR_RX_RATE, struct.pack("=I", rate_idx)) +
                       nla(ATTR_SIGNAL, struct.pack("=i", -40)) + nla(ATTR_FREQ, freq))
        # Unicast data (frame control type 2, addr1 not group) gets the
        # configured attempts at the first rate; the rest goes first time.
        fc = frame[0] if frame else 0
        unicast_data = (fc & 0x0C) == 0x08 and len(frame) > 4 and not frame[4] & 1
        attempts = self.data_attempts if unicast_data else 1
        idx = self.data_rate_idx if unicast_data and self.data_rate_idx is not None else rates[0]
        used = [idx, attempts] + [-1, 0] * (TX_MAX_RATES - 1)
        out_flags = flags | (0 if flags & FLAG_NO_ACK else FLAG_STAT_ACK)
        self._send(CMD_TX_INFO_FRAME, nla(ATTR_ADDR_TRANSMITTER, tx) +
                   nla(ATTR_FLAGS, struct.pack("=I", out_flags)) +
                   nla(ATTR_TX_INFO, struct.pack("=" + "bB" * TX_MAX_RATES, *used)) +
                   nla(ATTR_COOKIE, a[ATTR_COOKIE]) +
                   nla(ATTR_SIGNAL, struct.pack("=i", -40)))
        self.statuses += 1
