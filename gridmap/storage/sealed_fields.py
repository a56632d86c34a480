"""ID numbers and phones sealed at rest (issue #9, PIPL Art. 51): a database dump holds no plaintext.

Each value is stored three ways, in three columns named after it (``phone`` → ``phone_sealed``,
``phone_digest``, ``phone_masked``):

* **sealed** — AES-256-GCM with a fresh random 96-bit nonce per value: ``key id (1 byte) || nonce (12) ||
  ciphertext || tag (16)``. The field's kind is the associated data, so a sealed phone cannot be moved into
  the ID-number column. The key id picks the key on opening, so old rows stay readable after a rotation.
* **digest** — a keyed blind index for exact lookup and duplicate checks: the value packed into one
  16-byte block (kind, length, 4-bit digits) and enciphered with AES under a separate derived key. A keyed
  permutation of a unique encoding: equal values give equal digests, and nobody without the key can test
  guesses (an unkeyed hash of an 18-digit ID number is brute-forced in minutes).
* **masked** — ``110105********002X`` / ``138****5678``, plain text, for display, search by the visible
  digits, and sorting.

Keys come from the environment only: ``GRIDMAP_DATA_KEY`` (base64 of 32 bytes) with ``GRIDMAP_DATA_KEY_ID``
(1–255) and, after a rotation, ``GRIDMAP_DATA_OLD_KEYS`` (``id:base64,...``) to open older rows; the index
key is ``GRIDMAP_INDEX_KEY`` or derived from the data key. Without DEMO_MODE/DEBUG a missing key is a
system-check error; in demo mode and tests both keys derive from SECRET_KEY.

Bulk paths use the ``*_many`` functions: values are sealed in batches of one length (gridmap.storage.batch_gcm:
standard GCM, one AES call over all counter blocks, GHASH by table look-ups), and the digests and masks are
computed as numpy arrays (one AES call over all blocks).
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import hmac
import os
from collections.abc import Sequence

import numpy as np
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.utils.translation import gettext as _

from gridmap.rules.fields import plain_number
from gridmap.storage import batch_gcm, bulk

KINDS = {"id_number": 1, "phone": 2}
_NONCE = 12
PLAIN_LENGTH = {"id_number": 18, "phone": 11}  # every valid value of a kind has this length
SEALED_LENGTH = {kind: 1 + _NONCE + n + 16 for kind, n in PLAIN_LENGTH.items()}  # key id, nonce, text, tag
MASK_PATTERN = {"id_number": r"^[0-9]{6}\*{8}[0-9]{3}[0-9X]$", "phone": r"^1[3-9][0-9]\*{4}[0-9]{4}$"}
BATCH_MIN = 256
_CODES = np.full(256, 255, dtype=np.uint8)  # byte → 4-bit code for the blind index; 255 = not packable
_CODES[np.frombuffer(b"0123456789X", dtype=np.uint8)] = np.arange(11)
_STR = np.dtypes.StringDType()


class SealError(Exception):
    """A sealed value that the configured keys cannot open (wrong key, unknown key id, damaged bytes)."""


class _Ring:
    def __init__(self, current: int, keys: dict[int, bytes], index_key: bytes):
        self.current, self.key = current, keys[current]
        self.aead = {key_id: AESGCM(key) for key_id, key in keys.items()}
        self.index_key = index_key


def _decode_key(text: str, name: str) -> bytes:
    try:
        key = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise ValueError(_("%(name)s 不是有效的 base64") % {"name": name}) from None
    if len(key) != 32:
        raise ValueError(_("%(name)s 应为 32 字节（base64 编码）") % {"name": name})
    return key


def _derive(secret: bytes, label: bytes) -> bytes:
    return hmac.digest(secret, b"gridmap " + label, "sha256")


@functools.lru_cache(maxsize=8)
def _ring_for(data_key: str, key_id: str, old_keys: str, index_key: str, secret_key: str, derive: bool) -> _Ring:
    try:
        current = int(key_id or "1")
    except ValueError:
        raise ValueError(_("GRIDMAP_DATA_KEY_ID 应为 1–255 的整数")) from None
    if not 1 <= current <= 255:
        raise ValueError(_("GRIDMAP_DATA_KEY_ID 应为 1–255 的整数"))
    if data_key:
        key = _decode_key(data_key, "GRIDMAP_DATA_KEY")
    elif derive:
        key = _derive(secret_key.encode(), b"data key")
    else:
        raise ValueError(_("未设置 GRIDMAP_DATA_KEY（个人信息加密密钥）"))
    keys = {}
    for item in filter(None, (part.strip() for part in old_keys.split(","))):
        old_id, _sep, old = item.partition(":")
        if not plain_number(old_id) or not 1 <= int(old_id) <= 255:
            raise ValueError(_("GRIDMAP_DATA_OLD_KEYS 的格式应为 id:base64,…"))
        keys[int(old_id)] = _decode_key(old, "GRIDMAP_DATA_OLD_KEYS")
    keys[current] = key
    index = _decode_key(index_key, "GRIDMAP_INDEX_KEY") if index_key else _derive(key, b"blind index")
    return _Ring(current, keys, index)


def keyring() -> _Ring:
    derive = bool(getattr(settings, "DEMO_MODE", False) or settings.DEBUG)
    return _ring_for(
        settings.GRIDMAP_DATA_KEY,
        str(settings.GRIDMAP_DATA_KEY_ID),
        settings.GRIDMAP_DATA_OLD_KEYS,
        settings.GRIDMAP_INDEX_KEY,
        settings.SECRET_KEY,
        derive,
    )


def key_environment() -> dict[str, str]:
    """The settings that give another process this process's keys, wherever they came from: for a
    production-like server a test or benchmark starts against data it sealed (old keys not included)."""
    ring = keyring()
    return {
        "GRIDMAP_DATA_KEY": base64.b64encode(ring.key).decode(),
        "GRIDMAP_DATA_KEY_ID": str(ring.current),
        "GRIDMAP_INDEX_KEY": base64.b64encode(ring.index_key).decode(),
    }


def configuration_problem() -> str | None:
    """The reason the key settings cannot be used, or None (for the system check)."""
    try:
        keyring()
    except ValueError as exc:
        return str(exc)
    return None


# -- sealing -------------------------------------------------------------------------------------------


def _seal_rows(kind: str, raw: np.ndarray) -> np.ndarray:
    """(n, m) uint8 plaintexts of one length → (n, 1 + 12 + m + 16) uint8 sealed values (batch_gcm)."""
    ring = keyring()
    body = batch_gcm.encrypt_block(ring.key, raw, bytes([KINDS[kind]]))
    return np.concatenate([np.full((len(raw), 1), ring.current, dtype=np.uint8), body], axis=1)


def seal_many(kind: str, values: Sequence[str]) -> list[bytes | None]:
    """AES-256-GCM per value, fresh nonce each; ``None`` for an empty value. From BATCH_MIN values on,
    values of one length are sealed together (gridmap.storage.batch_gcm: same format, ~10x faster)."""
    if len(values) < BATCH_MIN:
        return _seal_each(kind, values)
    array = np.asarray(values, dtype=_STR)
    out: list[bytes | None] = [None] * len(array)
    present, lengths = array != "", np.strings.str_len(array)
    for length in np.unique(lengths[present]).tolist():
        slots = np.flatnonzero(present & (lengths == length))
        try:
            raw = array[slots].astype(f"S{length}").view(np.uint8).reshape(-1, length)
        except UnicodeEncodeError:  # not ASCII (not a valid phone or ID number): one value at a time
            for slot, token in zip(slots.tolist(), _seal_each(kind, array[slots].tolist())):
                out[slot] = token
            continue
        rows = _seal_rows(kind, raw)
        blob, width = rows.tobytes(), rows.shape[1]
        for slot, start in zip(slots.tolist(), range(0, len(blob), width)):
            out[slot] = blob[start : start + width]
    return out


def _seal_each(kind: str, values: Sequence[str]) -> list[bytes | None]:
    ring, aad = keyring(), bytes([KINDS[kind]])
    prefix, encrypt = bytes([ring.current]), ring.aead[ring.current].encrypt
    nonces = os.urandom(_NONCE * len(values))
    out: list[bytes | None] = []
    append = out.append
    for i, value in enumerate(values):
        if value:
            nonce = nonces[i * _NONCE : (i + 1) * _NONCE]
            append(prefix + nonce + encrypt(nonce, value.encode(), aad))
        else:
            append(None)
    return out


def seal(kind: str, value: str) -> bytes | None:
    return seal_many(kind, [value])[0]


def unseal(kind: str, token) -> str:
    """The plaintext of one sealed value ('' for None); SealError when the keys cannot open it."""
    if token is None:
        return ""
    token = bytes(token)
    ring = keyring()
    aead = ring.aead.get(token[0]) if token else None
    if aead is None:
        raise SealError(_("数据密钥 %(id)s 未配置（GRIDMAP_DATA_OLD_KEYS）") % {"id": token[0] if token else "?"})
    try:
        return aead.decrypt(token[1 : 1 + _NONCE], token[1 + _NONCE :], bytes([KINDS[kind]])).decode()
    except InvalidTag:
        raise SealError(_("数据密钥与加密数据不匹配，无法解密")) from None


UPLOAD = 3  # the associated data of a sealed upload: its tag cannot pass for a phone's or an ID number's


def seal_upload(data: bytes) -> bytes:
    """A whole uploaded file sealed with the current key (key id, nonce, ciphertext and tag): an import file
    waiting for its commit holds phones and ID numbers and must not sit in the database as plaintext."""
    ring, nonce = keyring(), os.urandom(_NONCE)
    return bytes([ring.current]) + nonce + ring.aead[ring.current].encrypt(nonce, bytes(data), bytes([UPLOAD]))


def unseal_upload(token) -> bytes:
    token = bytes(token)
    aead = keyring().aead.get(token[0]) if token else None
    if aead is None:
        raise SealError(_("数据密钥 %(id)s 未配置（GRIDMAP_DATA_OLD_KEYS）") % {"id": token[0] if token else "?"})
    try:
        return aead.decrypt(token[1 : 1 + _NONCE], token[1 + _NONCE :], bytes([UPLOAD]))
    except InvalidTag:
        raise SealError(_("数据密钥与加密数据不匹配，无法解密")) from None


def key_id_of(token) -> int | None:
    return bytes(token)[0] if token is not None else None


# -- blind index ---------------------------------------------------------------------------------------


def _digest_rows(kind: str, codes: np.ndarray) -> np.ndarray:
    """(n, m ≤ 28) digit codes (0-9, X = 10) → (n, 16) uint8 digests: kind, length, 4-bit digits, one AES call."""
    n, m = codes.shape
    nibbles = np.full((n, 28), 15, dtype=np.uint8)
    nibbles[:, :m] = codes
    blocks = np.empty((n, 16), dtype=np.uint8)
    blocks[:, 0], blocks[:, 1] = KINDS[kind], m
    blocks[:, 2:] = (nibbles[:, 0::2] << 4) | nibbles[:, 1::2]
    encryptor = Cipher(algorithms.AES(keyring().index_key), modes.ECB()).encryptor()
    return np.frombuffer(encryptor.update(blocks.tobytes()) + encryptor.finalize(), dtype=np.uint8).reshape(n, 16)


def digest_many(kind: str, values: Sequence[str]) -> list[bytes | None]:
    """One 16-byte keyed digest per value (None for empty). Digits and X (every valid ID number and phone)
    are packed into one block each and enciphered in one AES call per length; anything else (a value the
    database constraint will refuse anyway) gets a keyed BLAKE2b digest instead."""
    array = np.asarray(values, dtype=_STR) if len(values) else np.empty(0, dtype=_STR)
    out: list[bytes | None] = [None] * len(array)
    present, lengths = array != "", np.strings.str_len(array)
    odd = []
    for length in np.unique(lengths[present]).tolist():
        slots = np.flatnonzero(present & (lengths == length))
        try:
            codes = _CODES[array[slots].astype(f"S{length}").view(np.uint8).reshape(-1, length)]
        except UnicodeEncodeError:
            odd.extend(slots.tolist())
            continue
        good = (codes != 255).all(axis=1) if length <= 28 else np.zeros(len(slots), dtype=bool)
        odd.extend(slots[~good].tolist())
        blob = _digest_rows(kind, codes[good]).tobytes() if good.any() else b""
        for slot, start in zip(slots[good].tolist(), range(0, len(blob), 16)):
            out[slot] = blob[start : start + 16]
    key = keyring().index_key
    for slot in odd:
        out[slot] = hashlib.blake2b(
            str(array[slot]).encode(), key=key, digest_size=16, person=bytes([KINDS[kind]])
        ).digest()
    return out


def digest(kind: str, value: str) -> bytes | None:
    return digest_many(kind, [value])[0]


# -- masks ---------------------------------------------------------------------------------------------


def mask_many(kind: str, values) -> np.ndarray:
    """``110105********002X`` / ``138****5678``: the first 6 (3) and last 4 characters, the rest starred, so
    the masked form keeps the length (the database checks its shape); '' stays ''. A numpy string array."""
    array = np.asarray(values, dtype=_STR) if len(values) else np.empty(0, dtype=_STR)
    head = 6 if kind == "id_number" else 3
    length = np.strings.str_len(array)
    stars = np.strings.multiply(np.asarray("*", dtype=_STR), np.maximum(length - head - 4, 0))
    masked = np.strings.slice(array, 0, head) + stars + np.strings.slice(array, np.maximum(length - 4, head), None)
    short = np.strings.multiply(np.asarray("*", dtype=_STR), length)  # too short to show any part
    return np.where(array == "", "", np.where(length < head + 4, short, masked))


def mask(kind: str, value: str) -> str:
    return str(mask_many(kind, [value])[0])


def columns(kind: str, value: str) -> dict:
    """The three stored columns of one value (for ``.update(**columns(...))`` and model setters)."""
    return {
        f"{kind}_sealed": seal(kind, value),
        f"{kind}_digest": digest(kind, value),
        f"{kind}_masked": mask(kind, value),
    }


def sealed_property(kind: str) -> property:
    """``household.phone``: reading opens the sealed value (reveal only); assigning sets all three columns."""

    def get(obj):
        return unseal(kind, getattr(obj, f"{kind}_sealed"))

    def set_(obj, value):
        for name, column in columns(kind, value or "").items():
            setattr(obj, name, column)

    return property(get, set_, doc=f"{kind}, sealed at rest (see gridmap.storage.sealed_fields)")


def sealed_columns(kind: str, values) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The bulk path: non-empty values of the kind's one length (validated: digits and X) → sealed (n, w)
    uint8, digests (n, 16) uint8 and masked forms (bytes array), without a Python object per value."""
    array = np.asarray(values, dtype=_STR)
    width = PLAIN_LENGTH[kind]
    try:
        raw = array.astype(f"S{width}").view(np.uint8).reshape(-1, width)
    except UnicodeEncodeError:
        raw = None
    if raw is None or np.any(np.strings.str_len(array) != width):
        raise ValueError(_("%(kind)s 长度应为 %(n)s") % {"kind": kind, "n": width})
    codes = _CODES[raw]
    if np.any(codes == 255):
        raise ValueError(_("%(kind)s 长度应为 %(n)s") % {"kind": kind, "n": width})
    masked = raw.copy()
    masked[:, (6 if kind == "id_number" else 3) : width - 4] = ord("*")
    return _seal_rows(kind, raw), _digest_rows(kind, codes), masked.view(f"S{width}").ravel()


# -- bulk staging --------------------------------------------------------------------------------------


def stage(cursor, table: str, keys: np.ndarray, values, kind: str) -> int:
    """Seal ``values`` (with row ``keys``) into a new temporary table ``table`` (key bigint, sealed bytea,
    digest bytea, masked text) by one binary COPY; empty values are left out. Returns the rows staged.

    Values of one kind have one length (validated before), so every record has the same width and the
    COPY buffer is one numpy structured array."""
    array = np.asarray(values, dtype=_STR)
    present = array != ""
    chosen, chosen_keys = array[present], np.asarray(keys, dtype=np.int64)[present]
    cursor.execute(f"CREATE TEMP TABLE {table} (key bigint, sealed bytea, digest bytea, masked text) ON COMMIT DROP")
    if not len(chosen):
        return 0
    width = PLAIN_LENGTH[kind]
    sealed, digests, masked = sealed_columns(kind, chosen)
    sealed_len = sealed.shape[1]
    record = np.dtype(
        [
            ("fields", ">i2"),
            ("len_key", ">i4"),
            ("key", ">i8"),
            ("len_sealed", ">i4"),
            ("sealed", "u1", (sealed_len,)),
            ("len_digest", ">i4"),
            ("digest", "u1", (16,)),
            ("len_masked", ">i4"),
            ("masked", f"S{width}"),
        ]
    )
    rows = np.empty(len(chosen), dtype=record)
    rows["fields"], rows["len_key"], rows["len_sealed"], rows["len_digest"], rows["len_masked"] = (
        4,
        8,
        sealed_len,
        16,
        width,
    )
    rows["key"], rows["sealed"], rows["digest"], rows["masked"] = chosen_keys, sealed, digests, masked
    cursor.copy_expert(
        f"COPY {table} (key, sealed, digest, masked) FROM STDIN WITH (FORMAT binary)", bulk.binary_copy(rows)
    )
    return len(chosen)
