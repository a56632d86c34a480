"""拼音首字母 (pinyin initials) of a person's name: the search key of the member registry.

Pure Python (pypinyin), below the models: ``Member.save`` and the member import both derive the initials here.
"""

from __future__ import annotations

from pypinyin import Style, lazy_pinyin


def pinyin_initials(name: str) -> str:
    """拼音首字母 of a name: "张三" → "zs"; latin letters and digits are kept, lower-cased.

    >>> pinyin_initials("张三 Li3")
    'zsli3'
    """
    letters = lazy_pinyin(name, style=Style.FIRST_LETTER, errors=lambda s: list(s))
    return "".join(ch for part in letters for ch in part.lower() if ch.isalnum())[:50]
