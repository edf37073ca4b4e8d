"""Where the report's documents come from: a folder of native result JSON files (``grade-batch --out``).

Every ``*.json`` under the folder that is a native result document counts (other JSON, such as a
Gradescope ``results.json``, is skipped). The student is the document's ``"student"`` key, else the
name of the sub-folder holding the file (``OUT/<student>/...json``), else the file's stem.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from autograder.errors import DlgradeError

_NATIVE_KEYS = ("score", "max_score", "status", "tests", "assignments")


class ReportSourceError(DlgradeError, ValueError):
    """The folder of results cannot be used (missing, or holds no result document)."""


def is_native_result(document) -> bool:
    return isinstance(document, dict) and all(key in document for key in _NATIVE_KEYS)


def read_result_folder(folder: Path) -> list[dict]:
    """The native result documents under ``folder``, each with a ``"student"`` key, sorted by student.

    Symlinks are not followed (a submission might have planted one in an output folder).
    Raises ReportSourceError when the folder is missing or holds no result document.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise ReportSourceError(f"{folder}: no such folder")
    documents = []
    for path in _json_files(folder):
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError):
            continue  # not a result file; grade-batch writes only valid JSON
        if not is_native_result(document):
            continue
        if not document.get("student"):
            relative = path.relative_to(folder)
            document["student"] = relative.parts[0] if len(relative.parts) > 1 else path.stem
        documents.append(document)
    if not documents:
        raise ReportSourceError(f"{folder}: no native result JSON file (as written by `dlgrade grade-batch --out`)")
    return sorted(documents, key=lambda d: str(d["student"]))


def _json_files(folder: Path) -> list[Path]:
    """Regular ``*.json`` files under ``folder``, sorted; symlinked files and folders are skipped."""
    found = []
    for root, _dirs, files in os.walk(folder, followlinks=False):
        for name in files:
            path = Path(root) / name
            if name.endswith(".json") and not path.is_symlink() and path.is_file():
                found.append(path)
    return sorted(found)
