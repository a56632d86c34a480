"""An uploaded household or member file (CSV or XLSX) as text cells, read by the one table reader
(geodata/sheets.py: limits, encodings, formula cells) and refused, when it cannot be read, with the reason
catalogue's words (services/reasons.py)."""

from __future__ import annotations

import os

from django.utils.translation import gettext as _

from geodata.sheets import Table, UnreadableTable, read_cells
from gridmap.services.reasons import reason

__all__ = ["Table", "UnreadableFile", "read_bytes", "read_table"]


class UnreadableFile(ValueError):
    """The file as a whole cannot be read: ``reason`` is shown to the user, ``code`` is stable."""

    def __init__(self, code: str, reason: str):
        super().__init__(reason)
        self.code, self.reason = code, reason


def read_bytes(source) -> bytes:
    """A path, a binary file object or bytes → bytes."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        return bytes(source)
    if isinstance(source, (str, os.PathLike)):
        with open(source, "rb") as fh:
            return fh.read()
    raw = source.read()
    return raw.encode("utf-8") if isinstance(raw, str) else raw


def read_table(data: bytes, filename: str = "") -> Table:
    """``data`` as a :class:`geodata.sheets.Table`; raises UnreadableFile with the translated reason.

    >>> read_table("经度,纬度\\n116.4,39.9\\n".encode("utf-8")).kind
    'csv'
    """
    try:
        return read_cells(data, filename)
    except UnreadableTable as exc:
        note = _("第 %s 行") % exc.detail if exc.code == "ragged" else exc.detail
        raise UnreadableFile(exc.code, reason(exc.code, note=note)) from None
