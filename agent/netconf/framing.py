"""NETCONF message framing over SSH (RFC 6242 section 4).

:class:`FrameDecoder` turns the subsystem's byte stream into messages, in
end-of-message mode (``]]>]]>``, base:1.0, and always for ``<hello>``) or
chunked mode (base:1.1).  It never holds more than ``max_message`` bytes of
one message: the rest of an oversized message is read and discarded until
its end, and the message is reported as :class:`Oversized`, so the session
can answer ``too-big`` and stay in sync.  Malformed chunk framing raises
:class:`FramingError`; RFC 6242 has the receiver end the session then.
"""

from __future__ import annotations

from dataclasses import dataclass

EOM = b"]]>]]>"
_MAX_CHUNK_HEADER = len(b"\n#4294967295\n")
MAX_CHUNK_SIZE = 4294967295
#: Bytes kept from the start of an oversized message, to find its message-id.
HEAD_BYTES = 1024


class FramingError(Exception):
    """The peer broke the framing rules; the session must end."""


@dataclass(frozen=True)
class Oversized:
    """A message longer than the limit was received and discarded."""

    head: bytes
    size: int


class FrameDecoder:
    def __init__(self, max_message: int) -> None:
        if max_message < 1024:
            raise ValueError("max_message must be at least 1024 bytes")
        self.max_message = max_message
        self.chunked = False
        self._buf = bytearray()
        # end-of-message mode
        self._scan_from = 0
        # chunked mode
        self._msg = bytearray()
        self._chunk_left = 0  # bytes of the current chunk still to come
        # an oversized message being skipped
        self._skipping = False
        self._skip_head = b""
        self._skip_size = 0

    def use_chunked(self) -> None:
        """Switch to base:1.1 framing (after both hellos)."""
        self.chunked = True
        self._scan_from = 0

    def feed(self, data: bytes) -> None:
        """Take bytes from the transport."""
        self._buf += data

    def next(self) -> bytes | Oversized | None:
        """The next complete message, or None until more bytes arrive.

        Take messages one at a time: the caller may switch to chunked
        framing after the hello, and the bytes after it must then be read in
        the new mode.
        """
        return self._next_chunked() if self.chunked else self._next_eom()

    # -- base:1.0 ---------------------------------------------------------

    def _next_eom(self) -> bytes | Oversized | None:
        buf = self._buf
        idx = buf.find(EOM, self._scan_from)
        if idx < 0:
            if self._skipping:
                # Keep only what might be the start of a split delimiter.
                keep = len(EOM) - 1
                self._skip_size += max(0, len(buf) - keep)
                del buf[: max(0, len(buf) - keep)]
                self._scan_from = 0
                return None
            if len(buf) > self.max_message:
                self._skipping = True
                self._skip_head = bytes(buf[:HEAD_BYTES])
                self._skip_size = 0
                return self._next_eom()
            self._scan_from = max(0, len(buf) - (len(EOM) - 1))
            return None
        msg = bytes(buf[:idx])
        del buf[: idx + len(EOM)]
        self._scan_from = 0
        if self._skipping:
            self._skipping = False
            return Oversized(self._skip_head, self._skip_size + idx)
        if len(msg) > self.max_message:
            return Oversized(msg[:HEAD_BYTES], len(msg))
        return msg

    # -- base:1.1 ---------------------------------------------------------

    def _next_chunked(self) -> bytes | Oversized | None:
        buf = self._buf
        while True:
            if self._chunk_left:
                take = min(self._chunk_left, len(buf))
                if take == 0:
                    return None
                if self._skipping:
                    self._skip_size += take
                elif len(self._msg) + take > self.max_message:
                    self._skipping = True
                    self._skip_head = bytes(self._msg[:HEAD_BYTES]) + bytes(buf[: max(0, HEAD_BYTES - len(self._msg))])
                    self._skip_size = len(self._msg) + take
                    self._msg = bytearray()
                else:
                    self._msg += buf[:take]
                del buf[:take]
                self._chunk_left -= take
                continue
            # A chunk header or the end-of-chunks marker.
            if len(buf) < 4:
                if buf and not b"\n#".startswith(bytes(buf[:2])):
                    raise FramingError("expected a chunk header")
                return None
            if buf[0:2] != b"\n#":
                raise FramingError("expected a chunk header")
            if buf[2:4] == b"#\n":
                del buf[:4]
                if self._skipping:
                    self._skipping = False
                    return Oversized(self._skip_head, self._skip_size)
                if not self._msg and not self._seen_chunk:
                    raise FramingError("end of chunks without a chunk")
                msg = bytes(self._msg)
                self._msg = bytearray()
                self._seen_chunk = False
                return msg
            end = buf.find(b"\n", 2, _MAX_CHUNK_HEADER)
            if end < 0:
                if len(buf) >= _MAX_CHUNK_HEADER:
                    raise FramingError("chunk header too long")
                return None
            digits = bytes(buf[2:end])
            if not digits.isdigit() or digits[0:1] == b"0":
                raise FramingError(f"bad chunk size {digits[:16]!r}")
            size = int(digits)
            if size > MAX_CHUNK_SIZE:
                raise FramingError("chunk size above 4294967295")
            del buf[: end + 1]
            self._chunk_left = size
            self._seen_chunk = True

    _seen_chunk = False


def encode_eom(message: bytes) -> bytes:
    return message + EOM


def encode_chunked(message: bytes) -> bytes:
    return b"\n#%d\n%s\n##\n" % (len(message), message)
