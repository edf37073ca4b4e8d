"""`dlgrade upgrade-gradebook`: a gradebook of the old layout (a grading per whole submission, every
assignment of the course in it) becomes one grading per (student, assignment), SQLite and PostgreSQL."""

import copy
import sqlite3

import pytest
from click.testing import CliRunner
from sqlalchemy import Index, MetaData, Table, UniqueConstraint, create_engine, insert, inspect, select

from autograder.gradebook import Gradebook, GradebookError, checks_key
from autograder.gradebook.export import export
from autograder.gradebook.models import Base
from cli import main
from grading import SEED, grade, plan_for, write_submission
from test_export import read_csv

NEW_COLUMNS = {("gradings", "assignment"), ("gradings", "content_sha256")}
# Columns added later that need no data converted (nullable, or with a server default): opening a
# gradebook adds them in place; upgrade-gradebook adds them too.
SIMPLE_COLUMNS = {("students", "login"), ("students", "email"), ("students", "on_roster"), ("overrides", "mode"),
                  ("overrides", "sha256"), ("late_penalties", "mode")}
FIXTURES = "tests/fixtures/submissions"




def old_layout(without=frozenset(NEW_COLUMNS)) -> MetaData:
    """Today's tables without the columns of (student, assignment) (and any others ``without``
    names), and the old lookup index."""
    metadata = MetaData()
    for table in Base.metadata.sorted_tables:
        columns = [column._copy() for column in table.columns if (table.name, column.name) not in without]
        unique = [UniqueConstraint(*[c.name for c in constraint.columns]) for constraint in table.constraints
                  if isinstance(constraint, UniqueConstraint)]
        Table(table.name, metadata, *columns, *unique)
    gradings = metadata.tables["gradings"]
    Index("ix_gradings_lookup", gradings.c.submission_id, gradings.c.checks_key, gradings.c.seed)
    return metadata


def as_old_document(document: dict) -> dict:
    """A result as the old grader wrote it: an assignment without a file was "graded" with 0."""
    document = copy.deepcopy(document)
    for entry in document["assignments"]:
        if entry["status"] == "missing":
            entry["status"], entry["reason"] = "graded", f"no {entry['assignment']}.py or .ipynb in the submission"
    document["status"] = "graded"
    return document


@pytest.fixture(scope="module")
def old_documents(course, tmp_path_factory):
    """alice: perceptron only; bob: perceptron (a known mistake) and losses; activations: nobody."""
    plan = plan_for(course, "perceptron", "losses", "activations")
    root = course.solutions.parent / FIXTURES
    folder = tmp_path_factory.mktemp("old")
    perceptron = (root / "vectorized" / "perceptron.py").read_text()
    mutant = plan.rubrics["perceptron"][0].mutants[0]
    alice = grade(write_submission(folder / "alice", "perceptron", perceptron), plan).to_json()
    write_submission(folder / "bob", "perceptron", perceptron + "\n" + mutant.submission_source)
    bob = grade(write_submission(folder / "bob", "losses", (root / "vectorized" / "losses.py").read_text()),
                plan).to_json()
    return {"alice": as_old_document(alice), "bob": as_old_document(bob)}


@pytest.fixture(params=["sqlite", "postgresql"])
def old_gradebook(request, tmp_path, old_documents):
    return make_old_gradebook(request, tmp_path, old_documents, NEW_COLUMNS)


@pytest.fixture(params=["sqlite", "postgresql"])
def oldest_gradebook(request, tmp_path, old_documents):
    """The old layout, also from before the roster and the adjustments' modes."""
    return make_old_gradebook(request, tmp_path, old_documents, NEW_COLUMNS | SIMPLE_COLUMNS)


def make_old_gradebook(request, tmp_path, old_documents, without) -> str:
    url = f"sqlite:///{tmp_path / 'old.db'}" if request.param == "sqlite" else request.getfixturevalue("postgres")()
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    metadata = old_layout(without)
    metadata.create_all(engine)
    tables = metadata.tables
    with engine.begin() as connection:
        for number, (student, document) in enumerate(old_documents.items(), start=1):
            connection.execute(insert(tables["students"]).values(id=student, name=student.title()))
            submission = connection.execute(insert(tables["submissions"]).values(
                student_id=student, sha256=f"{number}" * 64, path=f"/subs/{student}", notes=[]).returning(
                tables["submissions"].c.id)).scalar_one()
            grading = connection.execute(insert(tables["gradings"]).values(
                submission_id=submission, student_id=student, checks_key=checks_key(document["checks_version"]),
                checks_version=document["checks_version"], seed=SEED, device="cpu", dlgrade_version="0.old",
                insecure=False, verdict="graded", score=document["score"], max_score=document["max_score"],
                duration_s=3.0, document=document).returning(tables["gradings"].c.id)).scalar_one()
            connection.execute(insert(tables["test_results"]), [
                {"grading_id": grading, "name": t["name"], "assignment": t["assignment"], "exercise": t["exercise"],
                 "outcome": t["outcome"], "score": t["score"], "max_score": t["max_score"], "mistake": t["mistake"],
                 "message": t["message"]} for t in document["tests"]])
    engine.dispose()
    return url


def test_the_old_layout_is_refused_until_upgraded(old_gradebook):
    with pytest.raises(GradebookError, match="upgrade-gradebook --db"):
        Gradebook.open(old_gradebook)
    result = CliRunner().invoke(main, ["upgrade-gradebook", "--db", old_gradebook])
    assert result.exit_code == 0, result.output
    assert result.output.strip().endswith(": 4 gradings, one per student and assignment")
    again = CliRunner().invoke(main, ["upgrade-gradebook", "--db", old_gradebook])  # already done: unchanged
    assert again.exit_code == 0 and again.output == result.output


def test_the_simple_columns_are_no_reason_to_refuse_and_the_upgrade_adds_them_too(oldest_gradebook):
    with pytest.raises(GradebookError) as refused:
        Gradebook.open(oldest_gradebook)
    message = str(refused.value)  # what needs converting, not what opening adds in place
    assert "no column gradings.assignment, gradings.content_sha256)" in message and "students." not in message
    result = CliRunner().invoke(main, ["upgrade-gradebook", "--db", oldest_gradebook])
    assert result.exit_code == 0, result.output
    engine = create_engine(oldest_gradebook.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.connect() as connection:
        inspector = inspect(connection)
        present = {(t, c["name"]) for t in ("students", "overrides", "late_penalties") for c in inspector.get_columns(t)}
    engine.dispose()
    assert SIMPLE_COLUMNS <= present
    with Gradebook.open(oldest_gradebook) as gradebook:
        assert gradebook.students()["alice"].login == "" and not gradebook.students()["alice"].on_roster
        gradebook.override("alice", "perceptron", 90, "oral exam", "prof")
        (alice,) = [d for d in gradebook.result_documents() if d["student"] == "alice"]
        assert next(a["score"] for a in alice["assignments"] if a["assignment"] == "perceptron") == 90


def test_upgrade_of_a_gradebook_of_todays_layout_adds_the_simple_columns_it_lacks(tmp_path):
    if sqlite3.sqlite_version_info < (3, 35):
        pytest.skip("SQLite before 3.35 cannot drop a column to make the older gradebook")
    path = tmp_path / "g.db"
    Gradebook.open(path).close()
    with sqlite3.connect(path) as connection:  # as dlgrade made it before the roster and the modes
        for table, column in sorted(SIMPLE_COLUMNS):
            connection.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
    result = CliRunner().invoke(main, ["upgrade-gradebook", "--db", str(path)])
    assert result.exit_code == 0, result.output
    with sqlite3.connect(path) as connection:  # read as it is, not through Gradebook.open (which adds them too)
        present = {(t, row[1]) for t in ("students", "overrides", "late_penalties")
                   for row in connection.execute(f"PRAGMA table_info({t})")}
    assert SIMPLE_COLUMNS <= present


def test_each_grading_becomes_one_per_assignment_collected(old_gradebook, old_documents):
    CliRunner().invoke(main, ["upgrade-gradebook", "--db", old_gradebook])
    with Gradebook.open(old_gradebook) as gradebook:
        gradings = gradebook.gradings()
        # each old row keeps its first assignment; the others are new rows, after the old ones
        assert [(g.student_id, g.assignment, g.verdict) for g in gradings] == [
            ("alice", "perceptron", "graded"), ("bob", "perceptron", "graded"), ("alice", "losses", "missing"),
            ("bob", "losses", "graded")]
        for grading in gradings:  # each test row follows its assignment; activations's are gone
            rows = gradebook.test_rows(grading.id)
            assert rows and {r.assignment for r in rows} == {grading.assignment}
            assert grading.checks_version == {grading.assignment: old_documents["alice"]["checks_version"][
                grading.assignment]}
        documents = {d["student"]: d for d in gradebook.result_documents()}
        alice = {a["assignment"]: a for a in documents["alice"]["assignments"]}
        assert list(alice) == ["perceptron", "losses"]
        assert alice["losses"]["status"] == "missing" and alice["losses"]["reason"].startswith("not handed in")
        assert documents["alice"]["score"] == 100 and documents["alice"]["max_score"] == 200
        assert documents["bob"]["score"] == pytest.approx(old_documents["bob"]["score"])
        version = old_documents["alice"]["checks_version"]["perceptron"]
        assert gradebook.is_graded("alice", "perceptron", "1" * 64, checks_key({"perceptron": version}), SEED)
        assert [e.action for e in gradebook.audit_trail("alice")] == ["upgraded"]
        with gradebook.engine.connect() as connection:
            indexes = {i["name"] for i in inspect(connection).get_indexes("gradings")}
        assert "ix_gradings_lookup" in indexes


def test_an_assignment_never_collected_leaves_no_column(old_gradebook, old_documents, tmp_path):
    CliRunner().invoke(main, ["upgrade-gradebook", "--db", old_gradebook])
    with Gradebook.open(old_gradebook) as gradebook:
        (path,) = export(gradebook, "canvas", tmp_path / "canvas.csv")
        with gradebook.engine.connect() as connection:
            rows = connection.execute(select(Base.metadata.tables["test_results"].c.assignment).distinct()).scalars()
            assert set(rows) == {"perceptron", "losses"}
    header, _, *rows = read_csv(path)
    assert header[5:] == ["perceptron", "losses"]
    bob = next(a["score"] for a in old_documents["bob"]["assignments"] if a["assignment"] == "perceptron")
    assert {row[0]: row[5:] for row in rows} == {"Alice": ["100", "0"], "Bob": [f"{bob:g}", "100"]}


def test_a_database_without_a_gradebook_is_not_upgraded(tmp_path):
    result = CliRunner().invoke(main, ["upgrade-gradebook", "--db", str(tmp_path / "none.db")])
    assert result.exit_code == 1 and "holds no gradebook: nothing to upgrade" in result.output


def test_an_upgrade_that_fails_changes_nothing(old_gradebook, monkeypatch):
    from autograder.gradebook import upgrade

    calls = []

    def fail_on_the_second(verdict):
        calls.append(verdict)
        if len(calls) > 2:
            raise RuntimeError("the disk is full")
        return verdict

    monkeypatch.setattr(upgrade, "_old_verdict", fail_on_the_second)
    with pytest.raises(RuntimeError, match="the disk is full"):
        upgrade.upgrade(old_gradebook)
    with pytest.raises(GradebookError, match="no column gradings.assignment, gradings.content_sha256"):
        Gradebook.open(old_gradebook)
    engine = create_engine(old_gradebook.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.connect() as connection:
        assert connection.execute(select(old_layout().tables["gradings"].c.id)).scalars().all() != []
        assert connection.execute(select(old_layout().tables["audit"].c.id)).scalars().all() == []
        assert {i["name"] for i in inspect(connection).get_indexes("gradings")} >= {"ix_gradings_lookup"}
    engine.dispose()
