"""AES-256-GCM for many short values of one length at once (sealing a million ID numbers before COPY).

The output is standard GCM (NIST SP 800-38D), byte for byte what ``AESGCM.encrypt`` returns for the same
key, nonce and associated data; tests open it with the cryptography library. Why: the library costs about
1 µs per call, so a million ID numbers and a million phones take longer than the bulk-load budget; here the
block cipher runs in one ECB call over every counter block (the library's AES), and GHASH becomes a few
table look-ups per byte in numpy:

    GHASH(A, C1..Cn) = A·H^(n+2) ⊕ C1·H^(n+1) ⊕ … ⊕ Cn·H^2 ⊕ L·H

The A and L terms are the same for every value of a batch, and multiplying by a fixed power of H is
linear over GF(2), so each ciphertext byte picks one precomputed 128-bit row (Shoup's 8-bit tables).
Nonces come from ``os.urandom``, one call per batch; nothing here is reused across values.
"""

from __future__ import annotations

import functools
import os

import numpy as np
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

_R = 0xE1 << 120
_LOW = (1 << 64) - 1
NONCE = 12


def _gf_mult(x: int, y: int) -> int:
    """x·y in GCM's GF(2^128) (bit-reflected, as in SP 800-38D, algorithm 1)."""
    z, v = 0, y
    for i in range(127, -1, -1):
        if (x >> i) & 1:
            z ^= v
        v = (v >> 1) ^ _R if v & 1 else v >> 1
    return z


@functools.lru_cache(maxsize=32)
def _table(factor: int, width: int) -> np.ndarray:
    """(width, 256, 2) uint64: row [j, b] = (byte b at position j of a block) · factor, as (high, low) words."""
    basis, v = [], factor
    for _ in range(8 * width):
        basis.append(v)
        v = (v >> 1) ^ _R if v & 1 else v >> 1
    table = np.zeros((width, 256, 2), dtype=np.uint64)
    values = np.arange(256)
    for j in range(width):
        rows = np.zeros(256, dtype=object)
        for k in range(8):
            rows[np.flatnonzero(values & (0x80 >> k))] ^= basis[8 * j + k]
        table[j, :, 0] = [int(r) >> 64 for r in rows]
        table[j, :, 1] = [int(r) & _LOW for r in rows]
    return table


def encrypt_block(key: bytes, plaintexts: np.ndarray, aad: bytes) -> np.ndarray:
    """``plaintexts`` (n, m) uint8, one value per row, all of length m → (n, 12 + m + 16) uint8 rows of
    nonce ‖ ciphertext ‖ tag, each with its own random nonce."""
    n, m = plaintexts.shape
    blocks = -(-m // 16)
    nonces = np.frombuffer(os.urandom(NONCE * n), dtype=np.uint8).reshape(n, NONCE)
    ecb = Cipher(algorithms.AES(key), modes.ECB()).encryptor()
    h = int.from_bytes(ecb.update(bytes(16)), "big")
    powers = [1, h]
    for _ in range(blocks + 1):
        powers.append(_gf_mult(powers[-1], h))
    counters = np.empty((n, 1 + blocks, 16), dtype=np.uint8)
    counters[:, :, :NONCE] = nonces[:, None, :]  # J0 = nonce ‖ 1 (for the tag), then nonce ‖ 2, 3, … (data)
    counters[:, :, NONCE:] = np.arange(1, 2 + blocks, dtype=">u4").view(np.uint8).reshape(1 + blocks, 4)
    stream = np.frombuffer(ecb.update(counters.tobytes()) + ecb.finalize(), dtype=np.uint8).reshape(n, 1 + blocks, 16)
    cipher = plaintexts ^ stream[:, 1:, :].reshape(n, 16 * blocks)[:, :m]
    a = int.from_bytes(aad.ljust(16, b"\0"), "big")
    fixed = _gf_mult(a, powers[blocks + 2]) ^ _gf_mult(((8 * len(aad)) << 64) | (8 * m), powers[1])
    acc = np.empty((n, 2), dtype=np.uint64)
    acc[:, 0], acc[:, 1] = fixed >> 64, fixed & _LOW
    columns = np.ascontiguousarray(cipher.T)
    for i in range(blocks):
        width = min(16, m - 16 * i)
        table = _table(powers[blocks + 1 - i], width)
        for j in range(width):
            acc ^= table[j][columns[16 * i + j]]
    tag = acc.astype(">u8").view(np.uint8).reshape(n, 16) ^ stream[:, 0, :]
    return np.concatenate([nonces, cipher, tag], axis=1)
