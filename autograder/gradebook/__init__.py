"""The course gradebook (SQLAlchemy: a SQLite file by default, or PostgreSQL) and its exports."""

from autograder.gradebook.store import Gradebook, GradebookError, StudentInfo, checks_key

__all__ = ["Gradebook", "GradebookError", "StudentInfo", "checks_key"]
