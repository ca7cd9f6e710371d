"""Decryption of password-protected ODF packages (ODF 1.2 §3.4 and LibreOffice's ODF 1.4).

Each encrypted member is deflated, then encrypted with a key derived from the password:
start key = SHA-1 or SHA-256 of the UTF-8 password; key = PBKDF2-HMAC-SHA1 (or Argon2id)
of the start key with the member's salt; cipher Blowfish-CFB, AES-256-CBC or AES-256-GCM.
A checksum over the first KiB of the decrypted stream (or the GCM tag) tells a wrong password.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import zlib
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.decrepit.ciphers.algorithms import Blowfish
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.argon2 import Argon2id
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC

try:  # cryptography >= 47 keeps CFB with the other legacy primitives
    from cryptography.hazmat.decrepit.ciphers.modes import CFB
except ImportError:  # pragma: no cover - older cryptography
    from cryptography.hazmat.primitives.ciphers.modes import CFB

from caselens.ingest.errors import BrokenFile, LimitReached
from caselens.ingest.formats.officemeta import ElementType, attribute, local

MAX_ITERATIONS = 10_000_000  # PBKDF2 rounds a hostile manifest may ask for
MAX_ARGON2_MEMORY_KIB = 1024 * 1024


class WrongPassword(Exception):
    """The password does not open this member."""


@dataclass(frozen=True, slots=True)
class EncryptionData:
    """How one manifest entry is encrypted."""

    algorithm: str
    iv: bytes
    salt: bytes
    iterations: int
    key_size: int
    derivation: str
    start_key_algorithm: str
    checksum_type: str
    checksum: bytes
    argon2: tuple[int, int, int]  # iterations, memory (KiB), lanes

    def start_key(self, password: str) -> bytes:
        digest = "sha256" if self.start_key_algorithm.lower().endswith("sha256") else "sha1"
        return hashlib.new(digest, password.encode("utf-8")).digest()

    def key(self, start_key: bytes) -> bytes:
        if "argon2" in self.derivation.lower():
            iterations, memory, lanes = self.argon2
            if memory > MAX_ARGON2_MEMORY_KIB:
                raise LimitReached(f"Argon2 asks for {memory} KiB of memory")
            return Argon2id(
                salt=self.salt,
                length=self.key_size,
                iterations=iterations,
                lanes=lanes,
                memory_cost=memory,
            ).derive(start_key)
        if self.iterations > MAX_ITERATIONS:
            raise LimitReached(f"PBKDF2 asks for {self.iterations} iterations")
        kdf = PBKDF2HMAC(hashes.SHA1(), self.key_size, self.salt, self.iterations)  # noqa: S303
        return kdf.derive(start_key)

    def decrypt(self, data: bytes, start_key: bytes) -> bytes:
        """The member's decrypted (still deflated) bytes; WrongPassword if the check fails."""
        key = self.key(start_key)
        name = self.algorithm.lower()
        if name.endswith("aes256-gcm"):
            try:
                return AESGCM(key).decrypt(self.iv, data, None)
            except InvalidTag as err:
                raise WrongPassword from err
        if name.endswith("aes256-cbc"):
            if len(data) % 16 or len(self.iv) != 16:
                raise BrokenFile("AES-encrypted ODF member has a broken length or IV")
            decryptor = Cipher(algorithms.AES(key), modes.CBC(self.iv)).decryptor()
            plain = decryptor.update(data) + decryptor.finalize()
            padding = plain[-1] if plain else 0
            unpadded = plain[:-padding] if 0 < padding <= 16 else plain
            self._verify(unpadded, plain)
            return unpadded
        if "blowfish" in name:
            decryptor = Cipher(Blowfish(key), CFB(self.iv)).decryptor()
            plain = decryptor.update(data) + decryptor.finalize()
            self._verify(plain, plain)
            return plain
        raise BrokenFile(f"ODF encryption algorithm {self.algorithm!r} is not supported")

    def _verify(self, plain: bytes, padded: bytes) -> None:
        if not self.checksum:
            return
        digest = "sha256" if "sha256" in self.checksum_type.lower() else "sha1"
        whole = not self.checksum_type.lower().replace("-", "").endswith("1k")
        for candidate in (plain, padded):
            sample = candidate if whole else candidate[:1024]
            if hmac.compare_digest(hashlib.new(digest, sample).digest(), self.checksum):
                return
        raise WrongPassword


def manifest_encryption(manifest: ElementType) -> dict[str, EncryptionData]:
    """Encrypted members named in ``META-INF/manifest.xml``, by full path."""
    found: dict[str, EncryptionData] = {}
    for entry in manifest:
        if local(entry.tag) != "file-entry":
            continue
        data = next((el for el in entry if local(el.tag) == "encryption-data"), None)
        path = attribute(entry, "full-path")
        if data is None or not path:
            continue
        parts = {local(el.tag): el for el in data}
        algorithm = parts.get("algorithm")
        derivation = parts.get("key-derivation")
        start = parts.get("start-key-generation")
        if algorithm is None or derivation is None:
            raise BrokenFile(f"manifest entry {path} has incomplete encryption data")
        try:
            found[path] = EncryptionData(
                algorithm=attribute(algorithm, "algorithm-name") or "",
                iv=_b64(attribute(algorithm, "initialisation-vector")),
                salt=_b64(attribute(derivation, "salt")),
                iterations=int(attribute(derivation, "iteration-count") or "1024"),
                key_size=int(attribute(derivation, "key-size") or "16"),
                derivation=attribute(derivation, "key-derivation-name") or "PBKDF2",
                start_key_algorithm=(
                    (attribute(start, "start-key-generation-name") or "SHA1")
                    if start is not None
                    else "SHA1"
                ),
                checksum_type=attribute(data, "checksum-type") or "",
                checksum=_b64(attribute(data, "checksum")),
                argon2=(
                    int(attribute(derivation, "argon2-iterations") or "0"),
                    int(attribute(derivation, "argon2-memory") or "0"),
                    int(attribute(derivation, "argon2-lanes") or "1"),
                ),
            )
        except ValueError as err:
            raise BrokenFile(f"manifest entry {path} has malformed encryption data") from err
    return found


def inflate(data: bytes, cap: int) -> bytes:
    """Raw-deflate ``data`` (how ODF stores encrypted members), at most ``cap`` bytes."""
    inflater = zlib.decompressobj(-15)
    try:
        out = inflater.decompress(data, cap + 1)
    except zlib.error:
        return data  # stored without compression
    if len(out) > cap:
        raise LimitReached(f"an encrypted member expands to more than {cap} bytes")
    return out


def _b64(value: str | None) -> bytes:
    if not value:
        return b""
    try:
        return base64.b64decode(value, validate=False)
    except (binascii.Error, ValueError) as err:
        raise ValueError(f"bad base64 {value!r}") from err
