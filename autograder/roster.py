"""A course's roster from the LMS's own export, and finding a student by what a TA types.

Three formats, told apart by the header (:func:`detect_format`):

- Canvas's gradebook export (Grades > Export): ``Student, ID, SIS User ID, SIS Login ID,
  [Integration ID,] [Root Account,] Section``, then one column per assignment. ``Student`` is
  Canvas's sortable name ("Lovelace, Ada"), ``ID`` the Canvas user id (the number in the file
  names of Canvas's submissions download, so it is the student's key here). Under the header
  Canvas writes a ``Points Possible`` row (and, in newer exports, a ``Manual Posting`` row) that
  belong to no student, and it lists its own "Test Student" (Student View): all are skipped.
- Moodle's participants download (Participants > select all > Download table data as CSV):
  ``First name, Last name, [Username,] ID number, Email address, Roles, Groups, Last access to
  course``; the identity columns are the site's "show user identity" setting, so any of
  ``Username``, ``ID number`` and ``Email address`` may be absent, and older sites write
  ``Surname`` for ``Last name``. Moodle's user id is not in it: the key is the ID number, else the
  username, else the email address; submissions (folders ``<Full name>_<id>_assignsubmission_...``)
  are matched to the roster by their full name (:class:`RosterIndex`).
- A plain ``id,name,email,section`` CSV (``login`` optional; ``email`` and ``section`` too).

Any of them may start with a byte-order mark (Excel's "CSV UTF-8"), quote commas inside names,
hold empty lines, and use ``;`` or tabs instead of commas (spreadsheets in many locales).
Names are kept in Unicode NFC; every cell is stripped.

:func:`find_student` resolves what a TA types (an id, a login, an email or a name) to exactly
one student: ids and logins exactly or case-insensitively, names case-insensitively. A name that
only matches without accents ("Jose" for "José") is a suggestion, never a match: two people may
differ by an accent alone.
"""

from __future__ import annotations

import csv
import difflib
import enum
import io
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from autograder.errors import DlgradeError

MAX_ROSTER_BYTES = 20 << 20  # a roster of 100,000 students is about 10 MiB
_LIMITS = {"id": 200, "name": 400, "login": 200, "email": 320, "lms_id": 100, "sis_user_id": 100, "section": 200}


class RosterError(DlgradeError):
    """A roster file that cannot be read; the message says why and what to do."""


class StudentNotFound(DlgradeError):
    """No student, or several, fit what was typed; the message lists the closest ones."""


class RosterFormat(enum.StrEnum):
    CANVAS = "canvas"
    MOODLE = "moodle"
    PLAIN = "plain"

    @property
    def label(self) -> str:
        return {"canvas": "a Canvas gradebook export", "moodle": "a Moodle participants export",
                "plain": "a plain id,name,email,section CSV"}[self.value]


@dataclass(frozen=True)
class RosterEntry:
    """One student of a roster. ``id`` is the student's key in the gradebook (never empty)."""

    id: str
    name: str = ""
    login: str = ""
    email: str = ""
    lms_id: str = ""
    sis_user_id: str = ""
    section: str = ""


@dataclass
class Roster:
    format: RosterFormat
    entries: list[RosterEntry]
    skipped: list[str] = field(default_factory=list)  # "line 7: 'X' has no id", Canvas's Test Student, ...


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def _header_key(cell: str) -> str:
    """A header cell as compared: no BOM, no surrounding space, one space inside, case folded."""
    return " ".join(cell.replace("\ufeff", "").split()).casefold()


# The header names each format is known by (the variants seen in real exports), per field.
_CANVAS = {"name": ("student",), "id": ("id",), "sis_user_id": ("sis user id",), "login": ("sis login id",),
           "section": ("section",)}
_MOODLE = {"first": ("first name", "firstname", "first name/surname"), "last": ("last name", "surname", "lastname"),
           "username": ("username",), "idnumber": ("id number", "idnumber"),
           "email": ("email address", "email", "e-mail address", "e-mail"), "section": ("groups", "group")}
_PLAIN = {"id": ("id", "student id"), "name": ("name", "full name"), "email": ("email", "e-mail"),
          "login": ("login", "username"), "section": ("section", "group")}
EXPECTED = ("Canvas's gradebook export (Student, ID, SIS User ID, SIS Login ID, Section, ...), "
            "Moodle's participants download (First name, Last name, ID number, Email address, ...) "
            "or a plain CSV with the columns id,name,email,section")


def _columns(header: list[str], names: dict[str, tuple[str, ...]]) -> dict[str, int]:
    keys = [_header_key(cell) for cell in header]
    found = {}
    for field_name, variants in names.items():
        for variant in variants:
            if variant in keys:
                found[field_name] = keys.index(variant)
                break
    return found


def detect_format(header: list[str]) -> RosterFormat | None:
    """The roster format a header row is, or None. Canvas: ``Student`` and ``ID`` (an account that
    hides SIS data leaves out the SIS columns); Moodle: a first and a last name; plain: ``id`` and
    ``name``."""
    if {"name", "id"} <= set(_columns(header, _CANVAS)):
        return RosterFormat.CANVAS
    if {"first", "last"} <= set(_columns(header, _MOODLE)):
        return RosterFormat.MOODLE
    if {"id", "name"} <= set(_columns(header, _PLAIN)):
        return RosterFormat.PLAIN
    return None


def read_roster(path: Path) -> Roster:
    """The roster in the file ``path`` (a CSV in one of the three formats of the module docstring)."""
    path = Path(path)
    try:
        with path.open("rb") as stream:
            raw = stream.read(MAX_ROSTER_BYTES + 1)
    except OSError as error:
        raise RosterError(f"cannot read the roster {path}: {error.strerror or error}") from None
    if len(raw) > MAX_ROSTER_BYTES:
        raise RosterError(f"{path} is over {MAX_ROSTER_BYTES >> 20} MiB: is it really a roster CSV?")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise RosterError(f"{path} is not UTF-8 (byte {error.start}): export it again as CSV UTF-8") from None
    return parse_roster(text, str(path))


def parse_roster(text: str, where: str = "the roster") -> Roster:
    """The roster in ``text`` (the CSV's content); ``where`` names it in errors."""
    text = text.lstrip("\ufeff")
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        raise RosterError(f"{where} is empty: expected {EXPECTED}")
    try:
        dialect = csv.Sniffer().sniff(lines[0], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text), dialect)
    rows = [(reader.line_num, [cell.strip() for cell in row]) for row in reader]
    rows = [(line, row) for line, row in rows if any(row)]  # empty lines, and lines of empty cells
    header = rows[0][1]
    kind = detect_format(header)
    if kind is None:
        shown = ", ".join(cell for cell in header[:8] if cell) + (", ..." if len(header) > 8 else "")
        raise RosterError(f"{where}: unknown roster columns ({shown[:300]}): expected {EXPECTED}")
    read_entry = {RosterFormat.CANVAS: _canvas_entry, RosterFormat.MOODLE: _moodle_entry,
                  RosterFormat.PLAIN: _plain_entry}[kind]
    columns = _columns(header, {RosterFormat.CANVAS: _CANVAS, RosterFormat.MOODLE: _MOODLE,
                                RosterFormat.PLAIN: _PLAIN}[kind])
    roster = Roster(kind, [])
    seen: dict[str, int] = {}
    for number, row in rows[1:]:  # number: the row's (last) line in the file
        cells = {name: nfc(row[index]) if index < len(row) else "" for name, index in columns.items()}
        entry = read_entry(cells)
        if isinstance(entry, str):
            if entry:
                roster.skipped.append(f"line {number}: {entry}")
            continue
        entry = RosterEntry(**{name: value[:_LIMITS[name]] for name, value in vars(entry).items()})
        if entry.id in seen:
            roster.skipped.append(f"line {number}: the id {entry.id} again (line {seen[entry.id]}); the later one is kept")
            roster.entries = [e for e in roster.entries if e.id != entry.id]
        seen[entry.id] = number
        roster.entries.append(entry)
    return roster


def _canvas_entry(cells: dict[str, str]) -> RosterEntry | str:
    """A student of Canvas's export, or why the row is skipped ("" for Canvas's own rows)."""
    name = cells.get("name", "")
    if name.casefold() in ("points possible", "manual posting") or (not cells.get("id") and not name):
        return ""
    if not cells.get("id", "").isdigit():  # "(read only)" and other rows Canvas adds under the header
        return f"{name!r} has no Canvas user id"
    if name.casefold() in ("student, test", "test student"):
        return "Canvas's Test Student (Student View), not a student"
    return RosterEntry(cells["id"], name, login=cells.get("login", ""), lms_id=cells["id"],
                       sis_user_id=cells.get("sis_user_id", ""), section=cells.get("section", ""))


def _moodle_entry(cells: dict[str, str]) -> RosterEntry | str:
    name = " ".join(part for part in (cells.get("first", ""), cells.get("last", "")) if part)
    key = cells.get("idnumber") or cells.get("username") or cells.get("email")
    if not key:
        return f"{name!r} has no ID number, username or email address to know them by"
    return RosterEntry(key, name, login=cells.get("username", ""), email=cells.get("email", ""),
                       sis_user_id=cells.get("idnumber", ""), section=cells.get("section", ""))


def _plain_entry(cells: dict[str, str]) -> RosterEntry | str:
    if not cells.get("id"):
        return f"{cells.get('name', '')!r} has no id"
    return RosterEntry(cells["id"], cells.get("name", ""), login=cells.get("login", ""),
                       email=cells.get("email", ""), section=cells.get("section", ""))


# ------------------------------------------------------------------ finding a student


class Person(Protocol):
    """What a student lookup reads (a :class:`RosterEntry` or the gradebook's ``StudentInfo``)."""

    id: str
    name: str
    login: str
    email: str
    lms_id: str
    sis_user_id: str


def label(person: Person) -> str:
    """``Name (id)``, or the id alone when the name is unknown."""
    return f"{person.name} ({person.id})" if person.name and person.name != person.id else person.id


def _fold(text: str) -> str:
    return " ".join(nfc(text).casefold().split())


def _unaccented(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFD", _fold(text)) if not unicodedata.combining(c))


def name_forms(name: str) -> set[str]:
    """A name as people type it, folded: as written, and "First Last" for Canvas's "Last, First"."""
    forms = {_fold(name)} if name.strip() else set()
    if name.count(",") == 1:
        last, first = name.split(",")
        forms.add(_fold(f"{first} {last}"))
    return forms


def _identifiers(person: Person) -> set[str]:
    return {_fold(value) for value in (person.id, person.login, person.email, person.lms_id, person.sis_user_id)
            if value}


def find_student(query: str, people: Sequence[Person], where: str = "the gradebook") -> Person:
    """The one person ``query`` names: an id, login, email or LMS id (exactly, then ignoring case),
    else a name (ignoring case and spacing; "Ada Lovelace" also finds Canvas's "Lovelace, Ada").

    Raises :class:`StudentNotFound` when several names fit (it lists them) or none does (it lists
    the closest: the same name without accents first, then :mod:`difflib`'s nearest).
    """
    exact = [p for p in people if p.id == query]
    if len(exact) == 1:
        return exact[0]
    folded = _fold(query)
    by_identifier = [p for p in people if folded in _identifiers(p)]
    if len(by_identifier) == 1:
        return by_identifier[0]
    by_name = [p for p in people if folded in name_forms(p.name)] if not by_identifier else by_identifier
    if len(by_name) == 1:
        return by_name[0]
    if by_name:
        candidates = "; ".join(label(p) for p in sorted(by_name, key=lambda p: p.id)[:10])
        raise StudentNotFound(f"{query!r} fits {len(by_name)} students in {where}: {candidates}; give the id")
    suggestions = suggest(query, people)
    hint = f"did you mean {' or '.join(suggestions)}?" if suggestions else "`dlgrade roster list` shows who is there"
    raise StudentNotFound(f"no student {query!r} in {where}: {hint}")


def suggest(query: str, people: Sequence[Person], count: int = 3) -> list[str]:
    """Labels of the people closest to ``query``: accent-insensitive equals first, then difflib's."""
    plain = _unaccented(query)
    found = [p for p in people if any(_unaccented(form) == plain for form in name_forms(p.name) | _identifiers(p))]
    words: dict[str, list[Person]] = {}
    for person in people:
        for word in name_forms(person.name) | _identifiers(person):
            words.setdefault(word, []).append(person)
    for word in difflib.get_close_matches(_fold(query), list(words), n=count * 2, cutoff=0.6):
        found += words[word]
    labels = list(dict.fromkeys(label(p) for p in found))
    return labels[:count]


class RosterIndex:
    """Whose a submission is: the roster student its key, LMS id, login or exact full name names.

    Built once per batch from the roster. A name matches only when exactly one roster student has
    it (NFC, case-insensitive, Canvas's "Last, First" too); accents are never ignored here.
    """

    def __init__(self, people: Iterable[Person]):
        self.people = list(people)
        self._by_key: dict[str, list[Person]] = {}
        for person in self.people:
            for word in _identifiers(person) | name_forms(person.name):
                self._by_key.setdefault(word, []).append(person)
        self._ids = {p.id: p for p in self.people}

    def owner(self, key: str, name: str = "", lms_id: str = "") -> Person | None:
        """The roster student of a submission found under ``key`` (with ``name``, ``lms_id``), or None."""
        if key in self._ids:
            return self._ids[key]
        for word in (lms_id, key, name):
            fits = {p.id: p for p in self._by_key.get(_fold(word), [])} if word else {}
            if len(fits) == 1:
                return next(iter(fits.values()))
        return None
