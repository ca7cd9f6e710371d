"""The installation's Ed25519 key, which signs the head of every chain.

The private key lives in the data directory (mode 0600). Whoever can rewrite the
database but not read the key cannot produce a head that verifies.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from caselens.errors import ConfigurationError

PRIVATE_NAME = "chain-signing.ed25519"
PUBLIC_NAME = "chain-signing.ed25519.pub"


class HeadSigner:
    def __init__(self, private_key: Ed25519PrivateKey) -> None:
        self._private = private_key
        self.public_key = private_key.public_key()
        self.key_id = key_id(self.public_key)

    @classmethod
    def load_or_create(cls, keys_dir: Path) -> HeadSigner:
        private_path = keys_dir / PRIVATE_NAME
        if not private_path.exists():
            _create_key(keys_dir)
        try:
            key = serialization.load_pem_private_key(private_path.read_bytes(), password=None)
        except (OSError, ValueError) as err:
            raise ConfigurationError(f"cannot load the signing key {private_path}: {err}") from err
        if not isinstance(key, Ed25519PrivateKey):
            raise ConfigurationError(f"{private_path} is not an Ed25519 key")
        return cls(key)

    def sign(self, message: bytes) -> str:
        return self._private.sign(message).hex()


def load_public_key(keys_dir: Path) -> Ed25519PublicKey | None:
    path = keys_dir / PUBLIC_NAME
    if not path.exists():
        return None
    key = serialization.load_pem_public_key(path.read_bytes())
    if not isinstance(key, Ed25519PublicKey):
        raise ConfigurationError(f"{path} is not an Ed25519 public key")
    return key


def key_id(public_key: Ed25519PublicKey) -> str:
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def signature_valid(public_key: Ed25519PublicKey, message: bytes, signature_hex: str) -> bool:
    try:
        public_key.verify(bytes.fromhex(signature_hex), message)
    except (InvalidSignature, ValueError):
        return False
    return True


def _create_key(keys_dir: Path) -> None:
    keys_dir.mkdir(parents=True, exist_ok=True)
    os.chmod(keys_dir, 0o700)
    private = Ed25519PrivateKey.generate()
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    public_pem = private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    temp = keys_dir / f".{PRIVATE_NAME}.{os.getpid()}"
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)
        handle.flush()
        os.fsync(handle.fileno())
    # Two processes may race to create the key: the first link wins, the other is dropped.
    try:
        os.link(temp, keys_dir / PRIVATE_NAME)
        (keys_dir / PUBLIC_NAME).write_bytes(public_pem)
    except FileExistsError:
        pass
    finally:
        with contextlib.suppress(FileNotFoundError):
            temp.unlink()
