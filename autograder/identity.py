"""Student keys: a name's exact identity, usable as a database id and as one folder name.

A key is the name in Unicode NFC (the composed form: "é" typed as one character or as "e" plus
a combining accent is the same name), with every character that is not a letter, a mark, a
digit or one of ``_-@.,+=`` written as ``%XX`` (its UTF-8 bytes in hex; ``%`` itself becomes
``%25``). Nothing is dropped and nothing is merged: escaping is reversible, so two names that
differ after NFC never share a key ("José" and "Josø" stay two students; the old ASCII-only
keys made both "Jos_"). A space is kept inside a name, escaped at its ends; a dot is escaped
at the start (no hidden folder, never "." or ".."). An undecodable byte of a file name (Python
holds it as a lone surrogate) becomes ``%uDCXX``, which no character's escape can spell.

A key longer than :data:`MAX_KEY_BYTES` UTF-8 bytes (a folder name must stay under the file
system's 255 bytes, the database column under 200 characters) keeps its start and ends with
``~`` and 16 hex digits of the SHA-256 of the whole NFC name; ``~`` is escaped in every other
key, so a shortened key never equals a plain one.

Names that are equal after NFC but differ as raw strings do share a key: that is a
*collision*, which intake refuses for the students concerned (see
:mod:`autograder.batch.intake`), never a silent merge.
"""

from __future__ import annotations

import hashlib
import unicodedata

MAX_KEY_BYTES = 150
_KEPT_PUNCTUATION = frozenset("_-@.,+=")
_HASH_DIGITS = 16


def nfc(name: str) -> str:
    """``name`` in Unicode normal form C."""
    return unicodedata.normalize("NFC", name)


def _kept(char: str, first: bool, last: bool) -> bool:
    if char == " ":
        return not (first or last)
    if char == ".":
        return not first
    if char in _KEPT_PUNCTUATION:
        return True
    return unicodedata.category(char)[0] in "LMN"


def _escape(char: str) -> str:
    if "\ud800" <= char <= "\udfff":
        return f"%u{ord(char):04X}"
    return "".join(f"%{byte:02X}" for byte in char.encode("utf-8"))


def student_key(name: str) -> str:
    """The key of the raw name ``name`` (see the module docstring); never empty, never a path."""
    name = nfc(name)
    if not name:
        return "%"  # no escape is a lone "%": the empty name has a key of its own
    last = len(name) - 1
    key = "".join(c if _kept(c, i == 0, i == last) else _escape(c) for i, c in enumerate(name))
    if len(key.encode("utf-8")) <= MAX_KEY_BYTES:
        return key
    digest = hashlib.sha256(name.encode("utf-8", "surrogatepass")).hexdigest()[:_HASH_DIGITS]
    room = MAX_KEY_BYTES - 1 - _HASH_DIGITS
    head = key.encode("utf-8")[:room].decode("utf-8", "ignore")
    head = head[: head.rfind("%")] if "%" in head[-5:] else head  # no half escape before the "~"
    return f"{head}~{digest}"


def is_shortened(key: str) -> bool:
    """Whether ``key`` is a long name's shortened key (it ends with "~" and the hash)."""
    return len(key) > _HASH_DIGITS and key[-_HASH_DIGITS - 1] == "~"


def is_safe_component(text: str) -> bool:
    """Whether ``text`` can be used as it is as one folder name (every key is)."""
    return (bool(text) and not text.startswith(".") and "/" not in text and "\\" not in text
            and len(text.encode("utf-8", "surrogatepass")) <= MAX_KEY_BYTES + 50
            and all(unicodedata.category(c)[0] not in "CZ" or c == " " for c in text))


FOLDER_NAME_CHARS = 60  # of a student's name in a folder name (the id that follows keeps it unique)


def student_folder(key: str, name: str = "") -> str:
    """One student's output folder: ``<name>_<key>`` ("Ada Lovelace_4711"), or the key alone.

    ``key`` is a student key (or any id: it is escaped when it is no safe folder name). The name
    part is the name's key with ``_`` escaped too and cut to :data:`FOLDER_NAME_CHARS` characters,
    so the first ``_`` always ends it: two students never share a folder, since their keys differ.
    """
    key = key if is_safe_component(key) else student_key(key)
    name = nfc(name).strip()[:FOLDER_NAME_CHARS].strip()
    if not name or name == key:
        return key
    head = student_key(name).replace("_", "%5F")
    head = head[: head.rfind("~")] if is_shortened(head) else head
    return f"{head}_{key}"
