"""Value rules of single fields, each once, in a scalar form (forms, REST, the admin, row imports) and, where a
bulk import needs it, a vectorised form over numpy arrays that gives the same answers
(tests/test_field_rules.py checks both on one table of cases).

- station radius: 1..20,000 m, the database's check (models/stations.py uses these bounds too);
- mobile phone numbers: 11 ASCII digits starting 13..19;
- GB 11643 ID numbers: 17 digits and the ISO 7064 MOD 11-2 check character;
- text: stripped, not empty unless allowed, at most so many characters, no hidden character;
- hidden characters: C0 controls (tab, LF and CR aside), DEL, zero-width characters, bidi embeddings,
  overrides and isolates, the word joiner, BOM and lone surrogates. Invisible in a list, they make two names
  look equal or reverse how an address reads (docs/security.md), so every text field refuses them.
"""

from __future__ import annotations

import re

import numpy as np

STATION_RADIUS_MIN_M, STATION_RADIUS_MAX_M = 1, 20_000

PHONE = re.compile(r"^1[3-9][0-9]{9}$")  # a mainland mobile number
ID_NUMBER = re.compile(r"^[0-9]{17}[0-9X]$")
ID_WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2])
ID_CHECK = "10X98765432"

HIDDEN = "".join(
    map(
        chr,
        [
            *range(0, 9),
            11,
            12,
            *range(14, 32),
            127,
            *range(0x200B, 0x2010),
            *range(0x202A, 0x202F),
            *range(0x2066, 0x206A),
            0x2060,
            0xFEFF,
        ],
    )
)
_HIDDEN_RE = re.compile("[" + re.escape(HIDDEN) + "\ud800-\udfff]")


def plain_number(value) -> bool:
    """Only ASCII digits: ``str.isdigit()`` also accepts "³" (which ``int()`` refuses: a 500 where a 404 or a 400
    belongs) and other scripts' digits. Every id or count read from a request is checked with this.

    >>> [plain_number(v) for v in ("42", 42, "³0", "٤٢", "", "-1")]
    [True, True, False, False, False, False]
    """
    text = str(value)
    return text.isascii() and text.isdigit()


def station_radius_ok(value) -> bool:
    """A whole number of metres within the database's bounds (bool is not a number here).

    >>> station_radius_ok(15_000), station_radius_ok(20_001), station_radius_ok(True)
    (True, False, False)
    """
    return (
        isinstance(value, int) and not isinstance(value, bool) and STATION_RADIUS_MIN_M <= value <= STATION_RADIUS_MAX_M
    )


def phone_valid(value) -> bool:
    """A mainland mobile number: 11 ASCII digits starting 13..19.

    >>> phone_valid("13812345678"), phone_valid("12812345678"), phone_valid("１３８12345678")
    (True, False, False)
    """
    return isinstance(value, str) and bool(PHONE.match(value)) and value.isascii()


def phones_valid(phones: np.ndarray) -> np.ndarray:
    """:func:`phone_valid` over an array of strings (no per-row Python): length, ASCII digits, then 1[3-9]."""
    ok = np.strings.str_len(phones) == 11
    ok &= np.strings.lstrip(phones, "0123456789") == ""  # nothing but ASCII digits
    return ok & np.strings.startswith(phones, "1") & (np.strings.slice(phones, 1, 2) >= "3")


def id_number_valid(value: str) -> bool:
    """GB 11643: 17 digits, then the MOD 11-2 check character of them.

    >>> id_number_valid("11010519491231002X"), id_number_valid("110105194912310021")
    (True, False)
    """
    if not isinstance(value, str) or not ID_NUMBER.match(value):
        return False
    return ID_CHECK[int(np.dot([int(d) for d in value[:17]], ID_WEIGHTS)) % 11] == value[17]


def id_numbers_valid(ids: np.ndarray) -> np.ndarray:
    """The check character of each ID number of an array already shaped as 17 ASCII digits + [0-9X]."""
    raw = np.frombuffer(ids.astype("S18").tobytes(), dtype=np.uint8).reshape(len(ids), 18)
    digits = raw[:, :17].astype(np.int64) - 48
    return np.frombuffer(ID_CHECK.encode("ascii"), dtype=np.uint8)[(digits @ ID_WEIGHTS) % 11] == raw[:, 17]


def hidden_character(value: str) -> str:
    """The first hidden character of ``value`` ("" when there is none).

    >>> hidden_character("张\\u202e三"), hidden_character("张三\\t")
    ('\\u202e', '')
    """
    found = _HIDDEN_RE.search(value.replace("\t", "").replace("\n", "").replace("\r", ""))
    return found.group() if found else ""


def hidden_refusal(value: str) -> str:
    """The refusal code for a hidden character: nul_byte, control_character or bidi_control; "" if clean."""
    char = hidden_character(value)
    if not char:
        return ""
    if char == "\x00":
        return "nul_byte"
    return "control_character" if ord(char) < 32 or char == "\x7f" else "bidi_control"


def clean_text(value, limit: int, *, blank: bool = False) -> tuple[str, str]:
    """``value`` stripped, with "" or the refusal code of the one text rule: ``bad_value`` (not text),
    ``required`` (empty, unless ``blank``), ``too_long`` (over ``limit`` characters) or a hidden character's.

    >>> clean_text(" 张三 ", 10), clean_text("", 10), clean_text(5, 10), clean_text("张\u202e三", 10)
    (('张三', ''), ('', 'required'), ('', 'bad_value'), ('张\u202e三', 'bidi_control'))
    """
    if not isinstance(value, str):
        return "", "bad_value"
    value = value.strip()
    if not value and not blank:
        return value, "required"
    if len(value) > limit:
        return value, "too_long"
    return value, hidden_refusal(value)


def rows_with_hidden(values: np.ndarray, cells: list[str]) -> np.ndarray:
    """Rows whose text holds a hidden character (vectorised: one find per hidden character that occurs).
    ``cells`` are the same column's Python strings: joining them is ~20x cheaper than converting the numpy
    strings back, and one C-speed scan settles the usual case of a clean column."""
    mask = np.zeros(len(values), dtype=bool)
    if not len(values):
        return mask
    joined = "".join(cells)
    if not _HIDDEN_RE.search(joined):
        return mask
    for ch in set(_HIDDEN_RE.findall(joined)):
        if ch == "\x00":  # numpy strings treat NUL as padding: find() reports it in every row
            mask |= np.fromiter(("\x00" in cell for cell in cells), dtype=bool, count=len(cells))
        else:
            mask |= np.strings.find(values, ch) >= 0
    return mask
