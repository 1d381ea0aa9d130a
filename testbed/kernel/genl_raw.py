"""Hand-built generic netlink requests, for sending what a library won't.

The tests use it to send malformed requests (unknown attributes, wrong
lengths, truncated TLVs, reserved header bits) and read the kernel's
error code and extended-ACK message.
"""

from __future__ import annotations

import os
import socket
import struct
from dataclasses import dataclass

NETLINK_GENERIC = 16
NLM_F_REQUEST = 0x1
NLM_F_ACK = 0x4
NLMSG_ERROR = 0x2
SOL_NETLINK = 270
NETLINK_EXT_ACK = 11
NLMSGERR_ATTR_MSG = 1
GENL_ID_CTRL = 0x10
CTRL_CMD_GETFAMILY = 3
CTRL_ATTR_FAMILY_ID = 1
CTRL_ATTR_FAMILY_NAME = 2


def nla(attr_type: int, payload: bytes) -> bytes:
    """One attribute, padded to 4 octets."""
    raw = struct.pack("=HH", 4 + len(payload), attr_type) + payload
    return raw + b"\0" * (-len(raw) % 4)


def nla_u32(attr_type: int, value: int) -> bytes:
    return nla(attr_type, struct.pack("=I", value))


@dataclass(frozen=True)
class Ack:
    error: int            #: 0 or a positive errno
    message: str          #: extended ACK text, "" if none


class RawGenl:
    """A NETLINK_GENERIC socket with extended ACKs on."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_GENERIC)
        self.sock.setsockopt(SOL_NETLINK, NETLINK_EXT_ACK, 1)
        self.sock.bind((0, 0))
        self.sock.settimeout(5)
        self.seq = 1

    def close(self) -> None:
        self.sock.close()

    def send(self, msg_type: int, cmd: int, payload: bytes, *, version: int = 1,
             reserved: int = 0, flags: int = NLM_F_REQUEST | NLM_F_ACK) -> list[bytes]:
        self.seq += 1
        body = struct.pack("=BBH", cmd, version, reserved) + payload
        header = struct.pack("=IHHII", 16 + len(body), msg_type, flags, self.seq, os.getpid())
        self.sock.send(header + body)
        return self._replies(until_error=bool(flags & NLM_F_ACK))

    def _replies(self, until_error: bool) -> list[bytes]:
        out: list[bytes] = []
        while True:
            data = self.sock.recv(65536)
            off = 0
            while off + 16 <= len(data):
                length, msg_type, _flags, seq, _pid = struct.unpack_from("=IHHII", data, off)
                msg = data[off:off + length]
                off += (length + 3) & ~3
                if seq != self.seq:
                    continue
                out.append(msg)
                if msg_type == NLMSG_ERROR or not until_error:
                    return out

    def request(self, msg_type: int, cmd: int, payload: bytes, **kw: int) -> Ack:
        msg = self.send(msg_type, cmd, payload, **kw)[-1]
        (code,) = struct.unpack_from("=i", msg, 16)
        inner_len = struct.unpack_from("=I", msg, 20)[0]
        # The error message echoes the request header (capped) and may
        # carry extended-ACK TLVs after it.
        off = 20 + (16 if code == 0 or len(msg) < 20 + inner_len else inner_len)
        text = ""
        while off + 4 <= len(msg):
            alen, atype = struct.unpack_from("=HH", msg, off)
            if alen < 4:
                break
            if atype == NLMSGERR_ATTR_MSG:
                text = msg[off + 4:off + alen].split(b"\0", 1)[0].decode()
            off += (alen + 3) & ~3
        return Ack(error=-code, message=text)

    def family_id(self, name: str) -> int:
        msg = self.send(GENL_ID_CTRL, CTRL_CMD_GETFAMILY,
                        nla(CTRL_ATTR_FAMILY_NAME, name.encode() + b"\0"),
                        flags=NLM_F_REQUEST)[0]
        off = 20
        while off + 4 <= len(msg):
            alen, atype = struct.unpack_from("=HH", msg, off)
            if atype == CTRL_ATTR_FAMILY_ID:
                return struct.unpack_from("=H", msg, off + 4)[0]
            off += (alen + 3) & ~3
        raise LookupError(f"no generic netlink family {name}")
