"""SSH keys of the southbound: the controller's client key, and
OpenSSH-style fingerprints (``SHA256:<base64 without padding>``)."""

from __future__ import annotations

import base64
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey


def fingerprint(key_blob: bytes) -> str:
    """OpenSSH SHA256 fingerprint of a public key in SSH wire format."""
    digest = hashlib.sha256(key_blob).digest()
    return "SHA256:" + base64.b64encode(digest).decode().rstrip("=")


def fingerprint_of_openssh_line(line: str) -> str:
    """Fingerprint of an ``ssh-ed25519 AAAA... comment`` public key line."""
    return fingerprint(base64.b64decode(line.split()[1]))


@dataclass(frozen=True)
class ClientKey:
    """The key the controller authenticates to nodes with."""

    private_path: Path
    public_line: str

    @property
    def fingerprint(self) -> str:
        return fingerprint_of_openssh_line(self.public_line)


def load_or_create_client_key(path: Path, comment: str = "ransdn-controller") -> ClientKey:
    """Load the OpenSSH private key at ``path``, creating an Ed25519 key
    (mode 0600) there first if it does not exist."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        key = Ed25519PrivateKey.generate()
        pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH,
                                serialization.NoEncryption())
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(pem)
    key = serialization.load_ssh_private_key(path.read_bytes(), password=None)
    public = key.public_key().public_bytes(serialization.Encoding.OpenSSH,
                                           serialization.PublicFormat.OpenSSH).decode()
    pub_path = path.with_name(path.name + ".pub")
    line = f"{public} {comment}"
    if not pub_path.exists():
        pub_path.write_text(line + "\n")
    return ClientKey(path, line)
