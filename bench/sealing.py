"""Sealing personal data at rest (issue #9): 1M ID numbers + 1M phones, beside the library's own loop.

Rows: the project's bulk helpers (gridmap.storage.sealed_fields ``seal_many``, ``digest_many``, ``mask_many``)
for one million synthetic ID numbers and one million phones — what the city loader and the CSV import do
before COPY — against anchors measured in the same run: the bare ``AESGCM.encrypt`` call per value (the
cryptography library's floor for per-value GCM, nonce and framing left out) and a keyed BLAKE2b per value
(the usual blind index). Budget: sealing all three columns of both kinds ≤ 2.5 s — the ``sealed_columns``
row, which the city loader (through ``sealed_fields.stage``) and the CSV import (per slice) run before their COPY.

Standalone: ``python -m bench.sealing --n 1000000`` (DEMO_MODE: the key derives from SECRET_KEY).
"""

from __future__ import annotations

import argparse
import hashlib
import os

import numpy as np

from bench.harness import Row, measure

N = 1_000_000


def _values(n: int) -> tuple[list[str], list[str]]:
    from geodata.synth_people import id_numbers, mobile_numbers

    rng = np.random.default_rng(9)
    birth = np.datetime64("1940-01-01") + rng.integers(0, 25_000, n).astype("timedelta64[D]")
    return list(id_numbers(rng, birth, rng.random(n) < 0.5)), list(mobile_numbers(rng, n, 0))


def rows(n: int = N, repeat: int = 5) -> list[Row]:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    from gridmap.storage import sealed_fields as sf

    ids, phones = _values(n)
    items = 2 * n
    aead, nonce, key = AESGCM(os.urandom(32)), os.urandom(12), os.urandom(32)

    def library_floor():
        encrypt = aead.encrypt
        for value in ids:
            encrypt(nonce, value.encode(), None)
        for value in phones:
            encrypt(nonce, value.encode(), None)

    def blake2b_index():
        for value in ids + phones:
            hashlib.blake2b(value.encode(), key=key, digest_size=16).digest()

    def project(kinds=("seal", "digest", "mask")):
        def run():
            for kind, values in (("id_number", ids), ("phone", phones)):
                if "seal" in kinds:
                    sf.seal_many(kind, values)
                if "digest" in kinds:
                    sf.digest_many(kind, values)
                if "mask" in kinds:
                    sf.mask_many(kind, values)

        return run

    def bulk():
        sf.sealed_columns("id_number", ids)
        sf.sealed_columns("phone", phones)

    out = []
    for approach, fn, kind, anchor in (
        ("anchor: AESGCM.encrypt per value (fixed nonce, no framing)", library_floor, "anchor", None),
        ("anchor: keyed BLAKE2b per value", blake2b_index, "anchor", None),
        (
            "project: sealed_fields.seal_many",
            project(("seal",)),
            "project",
            "anchor: AESGCM.encrypt per value (fixed nonce, no framing)",
        ),
        ("project: sealed_fields.digest_many", project(("digest",)), "project", "anchor: keyed BLAKE2b per value"),
        ("project: sealed_fields.mask_many", project(("mask",)), "project", None),
        (
            "project: sealed_fields.sealed_columns (all three columns, the bulk path before COPY)",
            bulk,
            "project",
            "anchor: AESGCM.encrypt per value (fixed nonce, no framing)",
        ),
    ):
        samples, peak = measure(fn, repeat=repeat)
        out.append(
            Row(
                f"seal {n:,} ID numbers + {n:,} phones",
                approach,
                kind,
                items,
                samples,
                round(peak, 1),
                anchor=anchor,
                note="budget ≤ 2.5 s for all three columns" if "bulk path" in approach else "",
            )
        )
    return out


def run(results, repeat: int = 5) -> None:
    """As part of ``python -m bench``: as many values as the run's households (1M at large)."""
    for row in rows(results.params.get("households", N), repeat):
        results.add(row)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=N)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    os.environ.setdefault("DEMO_MODE", "true")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gridmap.settings")
    import django

    django.setup()
    for row in rows(args.n, args.repeat):
        print(f"{row.approach:<60} median {row.median:7.3f} s  min {min(row.samples):7.3f} s  peak {row.peak_py_mb} MB")


if __name__ == "__main__":
    main()
