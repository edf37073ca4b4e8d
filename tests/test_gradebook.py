"""The gradebook on SQLite and on a real PostgreSQL server: the same tests, parametrized."""

import pytest
from sqlalchemy import text

from autograder.batch.worker import failure_result
from autograder.gradebook import Gradebook, GradebookError, StudentInfo, checks_key
from autograder.judge.results import TIMEOUT
from grading import SEED, grade, plan_for, write_submission

REPOSITORY_FIXTURES = "tests/fixtures/submissions"




@pytest.fixture(params=["sqlite", "postgresql"])
def gradebook(request, tmp_path):
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'grades.db'}"
    else:
        url = request.getfixturevalue("postgres")()
    book = Gradebook.open(url)
    yield book
    book.close()


@pytest.fixture(scope="module")
def documents(course, tmp_path_factory):
    """Real native documents: a correct perceptron, a buggy one, and a timeout verdict."""
    plan = plan_for(course, "perceptron")
    folder = tmp_path_factory.mktemp("subs")
    good_source = (course.solutions.parent / REPOSITORY_FIXTURES / "vectorized" / "perceptron.py").read_text()
    mutant = plan.rubrics["perceptron"][0].mutants[0]
    good = grade(write_submission(folder / "good", "perceptron", good_source), plan).to_json()
    bad = grade(write_submission(folder / "bad", "perceptron", good_source + "\n" + mutant.submission_source), plan).to_json()
    slow = failure_result(plan, "slow", "took too long", TIMEOUT).to_json()
    return {"good": good, "bad": bad, "slow": slow}


def record(book, student, document, sha="a" * 64, verdict="graded", name=""):
    return book.record(StudentInfo(student, name), sha, f"/subs/{student}", [], verdict, document)


def test_record_and_skip_key(gradebook, documents):
    good = documents["good"]
    key = checks_key(good["checks_version"])
    assert not gradebook.is_graded("alice", "perceptron", "a" * 64, key, SEED)
    record(gradebook, "alice", good, name="Alice, A.")
    assert gradebook.is_graded("alice", "perceptron", "a" * 64, key, SEED)
    assert not gradebook.is_graded("alice", "perceptron", "b" * 64, key, SEED)  # new content
    assert not gradebook.is_graded("alice", "perceptron", "a" * 64, key, SEED + 1)  # another seed
    assert not gradebook.is_graded("alice", "perceptron", "a" * 64, checks_key({"perceptron": "changed"}), SEED)
    assert not gradebook.is_graded("alice", "mlp", "a" * 64, key, SEED)  # another assignment
    (grading,) = gradebook.gradings("alice")
    assert grading.document["tests"] == good["tests"] and grading.document["assignments"] == good["assignments"]
    assert grading.assignment == "perceptron" and grading.seed == SEED and grading.dlgrade_version
    rows = gradebook.test_rows(grading.id)
    assert [r.name for r in rows] == [t["name"] for t in good["tests"]]
    assert gradebook.students()["alice"].name == "Alice, A."


def test_result_documents_are_the_latest_per_student(gradebook, documents):
    record(gradebook, "alice", documents["bad"], sha="1" * 64)
    record(gradebook, "alice", documents["good"], sha="2" * 64)
    record(gradebook, "bob", documents["slow"], verdict="timeout")
    docs = {d["student"]: d for d in gradebook.result_documents()}
    assert docs["alice"]["score"] == 100 and docs["bob"]["score"] == 0
    assert {t["outcome"] for t in docs["bob"]["tests"]} == {"timeout"}
    assert (docs["alice"]["verdict"], docs["bob"]["verdict"]) == ("graded", "timeout")
    assert gradebook.result_documents("mlp") == []
    assert [d["student"] for d in gradebook.result_documents("perceptron")] == ["alice", "bob"]


def test_overrides_and_late_penalties_apply_and_are_audited(gradebook, documents):
    record(gradebook, "carol", documents["bad"])
    bad_score = documents["bad"]["score"]
    failed = next(t for t in documents["bad"]["tests"] if t["outcome"] != "passed")
    gradebook.override("carol", failed["name"], failed["max_score"], "the test was too strict", "ta@course")
    (doc,) = gradebook.result_documents()
    assert doc["score"] == pytest.approx(bad_score - failed["score"] + failed["max_score"])
    gradebook.late_penalty("carol", "perceptron", "10%", "two days late", "instructor")
    (doc,) = gradebook.result_documents()
    expected = (bad_score - failed["score"] + failed["max_score"]) * 0.9
    assert doc["score"] == pytest.approx(expected)
    assert [a["kind"] for a in doc["adjustments"]] == ["override", "late_penalty"]
    gradebook.override("carol", "perceptron", 50, "regrade by hand", "instructor")
    (grades,) = gradebook.grades()
    assert grades.assignments["perceptron"].score == pytest.approx(45.0) and grades.total == pytest.approx(45.0)
    trail = [(e.action, e.actor, e.reason) for e in gradebook.audit_trail("carol")]
    assert trail == [("graded", "dlgrade grade-batch", "new submission"),
                     ("override", "ta@course", "the test was too strict"),
                     ("late_penalty", "instructor", "two days late"),
                     ("override", "instructor", "regrade by hand")]


def test_adjustments_are_validated(gradebook, documents):
    record(gradebook, "dave", documents["good"])
    with pytest.raises(GradebookError, match="between 0 and 100"):
        gradebook.override("dave", "perceptron", 101, "typo", "ta")
    with pytest.raises(GradebookError, match="no assignment or test"):
        gradebook.override("dave", "no such test", 1, "typo", "ta")
    with pytest.raises(GradebookError, match="--reason"):
        gradebook.override("dave", "perceptron", 1, "  ", "ta")
    with pytest.raises(GradebookError, match="no graded submission"):
        gradebook.override("nobody", "perceptron", 1, "x", "ta")
    with pytest.raises(GradebookError, match="percentage"):
        gradebook.late_penalty("dave", "perceptron", "lots", "late", "ta")
    assert [e.action for e in gradebook.audit_trail("dave")] == ["graded"]


def test_audit_trail_is_append_only(gradebook, documents):
    record(gradebook, "erin", documents["good"])
    for statement in ("UPDATE audit SET reason = 'forged'", "DELETE FROM audit"):
        with pytest.raises(Exception, match="append-only"):
            with gradebook.engine.begin() as connection:
                connection.execute(text(statement))
    assert [e.reason for e in gradebook.audit_trail()] == ["new submission"]


def test_course_seed_is_made_once(gradebook):
    assert gradebook.course_seed() == gradebook.course_seed()


def test_a_bad_url_is_a_clear_error(tmp_path):
    with pytest.raises(GradebookError, match="cannot open the gradebook"):
        Gradebook.open("postgresql://nobody@127.0.0.1:1/none")


def as_assignment(document, name):
    """``document`` (one perceptron result) as if it were the result of assignment ``name``."""
    renamed = {**document, "checks_version": {name: "v1"}}
    renamed["assignments"] = [{**a, "assignment": name} for a in document["assignments"]]
    renamed["tests"] = [{**t, "assignment": name, "exercise": f"{name}.{t['exercise'].split('.')[1]}"}
                        for t in document["tests"]]
    return renamed


def test_gradings_are_per_student_and_assignment(gradebook, documents):
    """A second batch of another assignment keeps the first; regrading one replaces it in its place."""
    record(gradebook, "gus", documents["good"], sha="1" * 64)
    record(gradebook, "gus", as_assignment(documents["bad"], "mlp"), sha="2" * 64)
    (doc,) = gradebook.result_documents()
    assert [(a["assignment"], a["score"]) for a in doc["assignments"]] == [
        ("perceptron", 100), ("mlp", documents["bad"]["score"])]
    record(gradebook, "gus", documents["bad"], sha="3" * 64)  # perceptron again, new content
    (doc,) = gradebook.result_documents()
    assert [(a["assignment"], a["score"]) for a in doc["assignments"]] == [
        ("perceptron", documents["bad"]["score"]), ("mlp", documents["bad"]["score"])]
    assert doc["score"] == pytest.approx(2 * documents["bad"]["score"]) and doc["max_score"] == 200
    assert {t["assignment"] for t in doc["tests"]} == {"perceptron", "mlp"}
    assert [(e.action, e.target) for e in gradebook.audit_trail("gus")] == [
        ("graded", "perceptron"), ("graded", "mlp"), ("graded", "perceptron")]
    assert [d["student"] for d in gradebook.result_documents("mlp")] == ["gus"]
    assert {a["assignment"] for d in gradebook.result_documents("mlp") for a in d["assignments"]} == {"mlp"}


def test_a_whole_submission_is_split_into_one_grading_per_assignment(gradebook, documents):
    both = {**documents["good"]}
    mlp = as_assignment(documents["bad"], "mlp")
    both["assignments"] = documents["good"]["assignments"] + mlp["assignments"]
    both["tests"] = documents["good"]["tests"] + mlp["tests"]
    both["checks_version"] = {**documents["good"]["checks_version"], **mlp["checks_version"]}
    ids = gradebook.record(StudentInfo("hana"), "9" * 64, "/subs/hana", [], "graded", both,
                           hashes={"perceptron": "p" * 64, "mlp": "m" * 64})
    gradings = gradebook.gradings("hana")
    assert [g.id for g in gradings] == ids
    assert [(g.assignment, g.content_sha256, g.checks_version) for g in gradings] == [
        ("perceptron", "p" * 64, documents["good"]["checks_version"]), ("mlp", "m" * 64, {"mlp": "v1"})]
    assert {r.assignment for r in gradebook.test_rows(gradings[1].id)} == {"mlp"}
    assert gradebook.is_graded("hana", "mlp", "m" * 64, checks_key({"mlp": "v1"}), SEED)
    assert not gradebook.is_graded("hana", "mlp", "p" * 64, checks_key({"mlp": "v1"}), SEED)
    # The batch's one-query index answers as the per-pair queries do.
    index = gradebook.graded_index()
    for student, assignment, content, key in [("hana", "mlp", "m" * 64, checks_key({"mlp": "v1"})),
                                              ("hana", "mlp", "p" * 64, checks_key({"mlp": "v1"})),
                                              ("hana", "perceptron", "p" * 64, gradings[0].checks_key),
                                              ("hana", "perceptron", "m" * 64, gradings[0].checks_key),
                                              ("nobody", "mlp", "m" * 64, checks_key({"mlp": "v1"}))]:
        for seed in (SEED, SEED + 1):
            assert index.is_graded(student, assignment, content, key, seed) == gradebook.is_graded(
                student, assignment, content, key, seed)
    assert index.recorded_assignments("hana") == gradebook.recorded_assignments("hana") == {"perceptron", "mlp"}
    assert index.recorded_assignments("nobody") == set()
