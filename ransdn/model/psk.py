"""WPA2 passphrase to PSK mapping (IEEE 802.11-2020, J.4).

The passphrase never leaves the controller and is never stored: only the
256-bit PSK derived from it is kept and pushed to nodes.
"""

from __future__ import annotations

import hashlib


def derive_psk(passphrase: str, ssid: str) -> str:
    """Return the 64-hex-digit PSK for ``passphrase`` on ``ssid``."""
    key = hashlib.pbkdf2_hmac("sha1", passphrase.encode(), ssid.encode(), 4096, 32)
    return key.hex()


def psk_sha256(psk_hex: str) -> str:
    """SHA-256 of the PSK's 32 octets, in lower-case hex."""
    return hashlib.sha256(bytes.fromhex(psk_hex)).hexdigest()


def psk_matches(psk_hex: str, reported_sha256: str) -> bool:
    """Whether a node's ``psk-sha256`` state leaf reports ``psk_hex``.

    The leaf is a SHA-256 over the key's 32 octets (ransdn-wifi).
    """
    return reported_sha256.lower() == psk_sha256(psk_hex)
