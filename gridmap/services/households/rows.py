"""Check every row of a household file at once (numpy strings), before anything touches the database.

Required cells, number ranges, mobile format, GB 11643 ID check digits, duplicates within the file,
lengths and hidden characters. Each problem is (row, column, reason), rows numbered as a spreadsheet
shows them (the header is row 1); the errors are collected as masks and only the first MAX_ERRORS rows
become objects, so a million bad rows cost no more than a million good ones.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from django.utils.translation import gettext as _

from geodata.crs import SOURCE_CRS, normalise_crs
from gridmap.rules.fields import id_numbers_valid, phones_valid, rows_with_hidden

# canonical column -> accepted headers (Chinese first, as street offices write them)
COLUMNS = {
    "lon": ("经度", "lon", "lng", "longitude"),
    "lat": ("纬度", "lat", "latitude"),
    "address": ("地址", "address"),
    "head_name": ("户主", "head_name"),
    "phone": ("电话", "phone"),
    "id_number": ("身份证号", "id_number"),
    "residents": ("人数", "residents"),
    "external_id": ("外部编号", "external_id"),
    "crs": ("坐标系", "crs", "source_crs"),
}
REQUIRED = ("lon", "lat", "address", "head_name")
MAX_LENGTH = {"address": 200, "head_name": 50, "external_id": 64}
MAX_ERRORS = 1_000
_DIGITS = "0123456789"
BLANK = " \t\r\n\u3000\u00a0"  # trimmed from every cell: spaces, tabs, line breaks, full-width and no-break spaces
_STR = np.dtypes.StringDType()


@dataclass(frozen=True)
class RowError:
    row: int  # spreadsheet row: the header is row 1, the first household row 2
    column: str  # the header as written in the file (or the canonical name when it is missing)
    reason: str
    code: str = "invalid"  # stable: invalid | required | duplicate | exists | out_of_scope | file


def canonical(frame: pd.DataFrame) -> tuple[dict[str, str], list[RowError]]:
    """Map canonical names to the file's headers; report missing required columns against row 1."""
    lookup = {h.strip().lower(): h for h in frame.columns}
    found, errors = {}, []
    for name, headers in COLUMNS.items():
        header = next((lookup[h.lower()] for h in headers if h.lower() in lookup), None)
        if header is not None:
            found[name] = header
        elif name in REQUIRED:
            errors.append(RowError(1, f"{headers[0]}/{name}", _("缺少必需的列"), "required"))
    return found, errors


class _Collector:
    """Error masks per (column, reason), turned into RowErrors only for the first MAX_ERRORS rows."""

    def __init__(self, headers: dict[str, str], first_row: int = 2):
        self.headers, self.first_row, self.masks = headers, first_row, []

    def add(self, column: str, mask, reason: str, detail=None, code: str = "invalid") -> None:
        mask = np.asarray(mask, dtype=bool)
        if mask.any():
            self.masks.append((column, mask, reason, detail, code))

    def result(self) -> tuple[list[RowError], int]:
        errors, total = [], 0
        for column, mask, reason, detail, code in self.masks:
            rows = np.flatnonzero(mask)
            total += len(rows)
            for i in rows[:MAX_ERRORS]:
                text = reason if detail is None else reason.format(detail[i])
                errors.append(RowError(int(i) + self.first_row, self.headers.get(column, column), text, code))
        errors.sort(key=lambda e: (e.row, e.column))
        return errors[:MAX_ERRORS], total


def _digits_only(values: np.ndarray, allowed: str = _DIGITS) -> np.ndarray:
    """Rows made of ``allowed`` ASCII characters only (str.isdigit would also accept full-width and
    other Unicode digits). ASCII columns are checked as bytes, 10x faster than numpy string functions."""
    lengths = np.strings.str_len(values)
    try:
        raw = values.astype(f"S{max(int(lengths.max(initial=0)), 1)}")
    except UnicodeEncodeError:  # some cell is not ASCII: lstrip removes every leading allowed character,
        return np.strings.lstrip(values, allowed) == ""  # nothing left means nothing else was there
    codes = raw.view(np.uint8).reshape(len(values), -1)
    table = np.zeros(256, dtype=bool)
    table[list(allowed.encode("ascii"))] = True
    # bytes past a value's end are zero padding; a NUL inside a value is not allowed
    return (table[codes] | ((codes == 0) & (np.arange(codes.shape[1]) >= lengths[:, None]))).all(axis=1)


def _duplicates(values: np.ndarray, present: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rows repeating an earlier row's value, and that earlier row's spreadsheet number."""
    series = pd.Series(values.astype(object))
    mask = present & series.duplicated(keep="first").to_numpy()
    earlier = np.zeros(len(values), dtype=np.int64)
    if mask.any():
        first = series[present & ~mask]
        first_row = pd.Series(first.index.to_numpy() + 2, index=first.to_numpy())
        earlier[mask] = first_row.reindex(series[mask].to_numpy()).to_numpy()
    return mask, earlier


def _numbers(values: np.ndarray) -> np.ndarray:
    """Text → float64, NaN where it is no number (numpy's parser; pandas' coercing one is 2x slower)."""
    try:
        return values.astype(np.float64)
    except ValueError:
        return pd.to_numeric(pd.Series(values.astype(object)), errors="coerce").to_numpy(dtype=np.float64)


def validate(frame: pd.DataFrame, headers: dict[str, str], first_row: int = 2) -> tuple[dict, list[RowError], int]:
    """Clean columns (canonical names) and the errors of every row, vectorised with numpy strings.

    ``frame`` may be one slice of a file: ``first_row`` is the spreadsheet row of its first line.
    Repeats across the file are :func:`duplicates`' job (they need every row)."""
    n, errs = len(frame), _Collector(headers, first_row)
    blank = np.full(n, "", dtype=_STR)
    text = {
        name: np.strings.strip(np.asarray(frame[headers[name]].to_numpy(), dtype=_STR), BLANK)
        if name in headers
        else blank
        for name in COLUMNS
    }
    clean = {}
    for name, limit in (("lon", 180.0), ("lat", 90.0)):
        empty = text[name] == ""
        value = _numbers(np.where(empty, "nan", text[name]))
        errs.add(name, empty, _("必填"), code="required")
        errs.add(name, ~empty & ~np.isfinite(value), _("不是有效数字"))
        errs.add(name, np.isfinite(value) & (np.abs(value) > limit), _("超出范围（经度 -180…180，纬度 -90…90）"))
        clean[name] = value
    for name in ("address", "head_name"):
        errs.add(name, text[name] == "", _("必填"), code="required")
    for name in ("address", "head_name", "external_id", "phone", "id_number", "residents"):
        if name in headers:
            errs.add(
                name,
                rows_with_hidden(text[name], frame[headers[name]].tolist()),
                _("含控制字符或不可见字符（如 NUL、零宽、文字方向符）"),
            )
    for name, limit in MAX_LENGTH.items():
        errs.add(name, np.strings.str_len(text[name]) > limit, _("超过 {} 个字符").format(limit))
    phone = text["phone"]
    errs.add("phone", (phone != "") & ~phones_valid(phone), _("不是 11 位手机号码（1[3-9] 开头）"))
    ids = np.strings.upper(text["id_number"])
    present = ids != ""
    shaped = (
        present
        & (np.strings.str_len(ids) == 18)
        & _digits_only(np.strings.slice(ids, 0, 17))
        & _digits_only(np.strings.slice(ids, 17, 18), _DIGITS + "X")
    )
    errs.add("id_number", present & ~shaped, _("身份证号应为 18 位（17 位数字加校验位）"))
    if shaped.any():
        wrong = np.zeros(n, dtype=bool)
        wrong[shaped] = ~id_numbers_valid(ids[shaped])
        errs.add("id_number", wrong, _("身份证号校验位错误"))
    residents = text["residents"]
    count = _numbers(np.where(residents == "", "1", residents))
    whole = np.isfinite(count) & (count == np.round(count)) & (count >= 1) & (count <= 99)
    errs.add("residents", ~whole, _("人数应为 1 到 99 的整数"))
    clean["residents"] = np.where(whole, count, 1).astype(np.int16)
    clean["id_number_shaped"] = shaped
    clean["phone"], clean["id_number"] = (
        phone,
        ids,
    )  # sealed before they reach the database (gridmap.storage.sealed_fields)
    for name in ("address", "head_name", "external_id"):
        clean[name] = text[name]
    errors, total = errs.result()
    return clean, errors, total


def duplicates(clean: dict, headers: dict[str, str]) -> tuple[list[RowError], int]:
    """Rows repeating an earlier row's ID number or external id, over the whole file (``clean`` of
    :func:`validate` for every row, the first one on spreadsheet row 2)."""
    errs = _Collector(headers)
    for name, present in (("id_number", clean["id_number_shaped"]), ("external_id", clean["external_id"] != "")):
        values = clean[name]
        if present.any():
            dup, earlier = _duplicates(values, present)
            errs.add(name, dup, _("与第 {} 行重复"), earlier, code="duplicate")
    return errs.result()


def declared_crs(
    frame: pd.DataFrame, headers: dict[str, str], parameter: str | None
) -> tuple[str | None, list[RowError]]:
    """The file's coordinate system: the upload's parameter, or its 坐标系 column (one system per file).

    Without either the import is refused: GCJ-02 or BD-09 read as WGS84 lands 100-700 m off (docs/domain.md).
    """
    accepted = "、".join(SOURCE_CRS)
    try:
        chosen = normalise_crs(parameter) if parameter else None
    except ValueError:
        return None, [RowError(1, "坐标系/source_crs", _("坐标系应为 {}").format(accepted))]
    if "crs" not in headers:
        if chosen is None:
            return None, [
                RowError(1, "坐标系/source_crs", _("未声明坐标系：请在上传时选择，或在文件中加“坐标系”列"), "required")
            ]
        return chosen, []
    column = headers["crs"]
    errors = []
    for i, value in enumerate(frame[column].tolist()):
        value = str(value).strip(BLANK)
        if not value:
            if chosen is None:
                errors.append(RowError(i + 2, column, _("必填（或在上传时选择坐标系）"), "required"))
            continue
        try:
            name = normalise_crs(value)
        except ValueError:
            errors.append(RowError(i + 2, column, _("坐标系应为 {}").format(accepted)))
            continue
        if chosen is None:
            chosen = name
        elif name != chosen:
            errors.append(
                RowError(
                    i + 2,
                    column,
                    _("与文件其他行（或上传时选择）的坐标系 {} 不同：一个文件只能用一种坐标系").format(chosen),
                )
            )
        if len(errors) >= MAX_ERRORS:
            break
    return (chosen if not errors else None), errors
