"""Personal data at rest, sealed with AES-256-GCM (``cryptography``).

A sealed blob is ``MS1`` + the key id's length (one byte) + the key id + a 12-byte random nonce +
the ciphertext with its 16-byte tag. The key id travels with every blob, so keys can be rotated:
new blobs use the current key, old ones open with the key they name until ``matcher data
rotate-key`` has sealed them again under the current one. What a blob belongs to (a file's id and
owner, say) is bound in as associated data: a blob copied onto another row does not open.

Keys come from the configuration: ``data_keys_env`` names a variable holding ``id:base64key``
pairs separated by commas, the first the current one; without it, one key is made and kept in
the state folder (readable by its owner only), like the cache-key secret.

Where a holder's number must be found rather than read back (usage records, a clerk's search),
the tables keep a blind index (:class:`HolderIndex`): a keyed BLAKE2b of the ID type and the
number under the index key (``index_keys_env``, same format; else ``index-key.secret`` in the
state folder). New rows use the current index key; lookups ask for the number under every key
configured, so a new key goes first and the old one stays after it as long as rows made under it
must be found.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from matcher.errors import ConfigError
from matcher.store.keyfiles import write_once

__all__ = ["HolderIndex", "Privacy", "SealError", "Sealer", "parse_keys", "stored_key"]

MAGIC = b"MS1"
KEY_FILE = "data-key.secret"
INDEX_KEY_FILE = "index-key.secret"


class SealError(Exception):
    """A blob that does not open: unknown key, damaged, or bound to another row."""


class Sealer:
    def __init__(self, keys: Mapping[str, bytes], current: str) -> None:
        if current not in keys:
            raise ConfigError(f"data keys: the current key {current!r} is not among them")
        for key_id, key in keys.items():
            if len(key) != 32:
                raise ConfigError(f"data keys: key {key_id!r} is not 32 bytes (AES-256)")
            if not key_id or len(key_id.encode()) > 64 or ":" in key_id or "," in key_id:
                raise ConfigError(f"data keys: bad key id {key_id!r}")
        self._aead = {key_id: AESGCM(key) for key_id, key in keys.items()}
        self.current = current

    def seal(self, data: bytes, context: bytes) -> bytes:
        key_id = self.current.encode()
        nonce = secrets.token_bytes(12)
        sealed = self._aead[self.current].encrypt(nonce, data, context)
        return MAGIC + bytes([len(key_id)]) + key_id + nonce + sealed

    @staticmethod
    def key_id_of(blob: bytes) -> str | None:
        """The key a blob was sealed with; None for a blob written before sealing."""
        if not blob.startswith(MAGIC) or len(blob) < 4:
            return None
        return blob[4 : 4 + blob[3]].decode("utf-8", "replace")

    def open(self, blob: bytes, context: bytes) -> bytes:
        key_id = self.key_id_of(blob)
        if key_id is None:
            return blob  # written before data was sealed: read as it is, sealed on rotation
        aead = self._aead.get(key_id)
        if aead is None:
            raise SealError(f"sealed with key {key_id!r}, which is not configured")
        start = 4 + blob[3]
        try:
            return aead.decrypt(blob[start : start + 12], blob[start + 12 :], context)
        except InvalidTag:
            raise SealError("damaged, or not this row's") from None


TEXT_PREFIX = "ms1:"


def seal_text(sealer: Sealer, text: str, context: bytes) -> str:
    """A sealed blob as text, for a text column: ``ms1:`` + base64."""
    return TEXT_PREFIX + base64.b64encode(sealer.seal(text.encode(), context)).decode()


def open_text(sealer: Sealer, stored: str, context: bytes) -> str:
    """What :func:`seal_text` sealed; text kept before sealing comes back as it is."""
    if not stored.startswith(TEXT_PREFIX):
        return stored
    return sealer.open(base64.b64decode(stored[len(TEXT_PREFIX) :]), context).decode()


def text_key_id(stored: str) -> str | None:
    if not stored.startswith(TEXT_PREFIX):
        return None
    return Sealer.key_id_of(base64.b64decode(stored[len(TEXT_PREFIX) :]))


def parse_keys(text: str, where: str) -> tuple[dict[str, bytes], str]:
    """``id:base64,id2:base64`` → keys and the current (first) id."""
    keys: dict[str, bytes] = {}
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        key_id, sep, encoded = part.partition(":")
        try:
            key = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            key = b""
        if not sep or len(key) != 32:
            raise ConfigError(f"{where}: each entry must be id:base64 of 32 bytes")
        keys[key_id.strip()] = key
    if not keys:
        raise ConfigError(f"{where}: no key")
    return keys, next(iter(keys))


def stored_key(folder: Path, name: str = KEY_FILE) -> tuple[dict[str, bytes], str]:
    """The key kept in ``folder`` under ``name`` (made on first use, owner-only, appears
    whole): the data key, or the index key."""
    path = folder / name
    write_once(
        path,
        lambda: (
            f"local-{secrets.token_hex(4)}:{base64.b64encode(secrets.token_bytes(32)).decode()}"
        ).encode(),
    )
    try:
        return parse_keys(path.read_text(encoding="ascii"), str(path))
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read the key ({exc})") from None


def normalise_number(number: str) -> str:
    """The form a number is indexed in: no spaces, upper case (a trailing x is an X)."""
    return "".join(number.split()).upper()


class HolderIndex:
    """Blind index of holders' numbers: what a table keeps so a holder's rows can be found
    without the number itself. Without the key, a guessed number cannot be tested against it."""

    def __init__(self, keys: Mapping[str, bytes], current: str) -> None:
        if current not in keys:
            raise ConfigError(f"index keys: the current key {current!r} is not among them")
        for key_id, key in keys.items():
            if len(key) != 32:
                raise ConfigError(f"index keys: key {key_id!r} is not 32 bytes")
        # The current key first: it makes new rows' entries.
        self._keys = [keys[current], *(k for i, k in keys.items() if i != current)]

    @staticmethod
    def _digest(key: bytes, id_type: str, number: str) -> str:
        material = f"{id_type}\x1f{normalise_number(number)}".encode()
        digest = hashlib.blake2b(material, key=key, digest_size=32, person=b"holder-index")
        return digest.hexdigest()

    def key(self, id_type: str, number: str) -> str:
        """The entry a new row keeps for this holder (64 hex digits)."""
        return self._digest(self._keys[0], id_type, number)

    def keys(self, id_type: str, number: str) -> list[str]:
        """The entries this holder's rows may carry, one per configured key: what lookups ask."""
        return [self._digest(k, id_type, number) for k in self._keys]


@dataclass(frozen=True)
class Privacy:
    """What the records need to keep a holder's data out of clear: the data key (sealing what
    is read back) and the index key (finding a holder's rows)."""

    sealer: Sealer
    index: HolderIndex

    def seal(self, text: str, context: str) -> str:
        return seal_text(self.sealer, text, context.encode())

    def open(self, stored: str, context: str) -> str:
        return open_text(self.sealer, stored, context.encode())
