"""Writing a set of text files under a folder, and telling how a folder differs from such a set.

Used for the student release and for nbgrader's source folders. A symlink planted where a file
goes is replaced, never followed, so it cannot redirect a write.
"""

from __future__ import annotations

from pathlib import Path


def write_release(files: dict[str, str], out: Path) -> list[Path]:
    """Write the release under ``out``; return the paths written.

    A symlink in the way is replaced, never followed, so a planted link cannot redirect a write.
    """
    written = []
    for relative, text in sorted(files.items()):
        target = out / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.is_symlink():
            target.unlink()
        target.write_text(text, encoding="utf-8")
        written.append(target)
    return written


def release_drift(files: dict[str, str], out: Path) -> list[str]:
    """How ``out`` differs from the release: files missing, stale, or not part of it.

    Only the folders of the released assignments are compared.
    """
    problems = []
    for relative, text in sorted(files.items()):
        path = out / relative
        if not path.is_file():
            problems.append(f"missing: {relative}")
        elif path.read_text(encoding="utf-8") != text:
            problems.append(f"out of date: {relative}")
    for folder in sorted({Path(relative).parts[0] for relative in files}):
        for path in sorted((out / folder).rglob("*")):
            relative = path.relative_to(out).as_posix()
            if path.is_file() and relative not in files and "__pycache__" not in path.parts \
                    and ".ipynb_checkpoints" not in path.parts:
                problems.append(f"not in the release: {relative}")
    return problems
