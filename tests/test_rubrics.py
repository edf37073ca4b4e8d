"""Every assignment's rubric: right answers in any style get full marks, stubs get 0 with every
test "not attempted", and every known mistake loses points on its own exercise and is named."""

from pathlib import Path

import pytest

from autograder.course import CourseError
from support import ASSIGNMENTS, CONTRACT
from autograder.judge.rubric import load_rubric
from autograder.markers import strip_solutions
from grading import failures, grade, plan_for, write_submission

FIXTURES = Path(__file__).parent / "fixtures" / "submissions"
STYLES = sorted(p.name for p in FIXTURES.iterdir()) if FIXTURES.is_dir() else []


@pytest.fixture(scope="module")
def plans(course):
    return _Plans(course)


class _Plans(dict):
    """Plans built on first use, so that one assignment's tests need only that assignment."""

    def __init__(self, course):
        super().__init__()
        self.course = course

    def __missing__(self, assignment):
        self[assignment] = plan_for(self.course, assignment)
        return self[assignment]


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_rubric_covers_the_contract_with_100_points(course, assignment):
    rubric = load_rubric(course, assignment)
    assert rubric.max_score == 100
    for function in CONTRACT[assignment]:
        kinds = {c.visibility for c in rubric.checks if c.function == function}
        assert kinds == {"public", "hidden"}, f"{assignment}.{function} needs public and hidden checks, has {kinds}"
    assert all(c.description for c in rubric.checks if c.visibility == "hidden")


def test_the_course_has_at_least_30_named_mistakes(course):
    mutants = [m for a in ASSIGNMENTS for m in load_rubric(course, a).mutants]
    assert len(mutants) >= 30
    assert len({m.id for m in mutants}) == len(mutants)
    assert all(m.submission_source and m.title and m.hint for m in mutants)


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_model_answer_scores_full_marks(course, plans, tmp_path, assignment):
    folder = write_submission(tmp_path, assignment, course.answer_source(assignment).read_text())
    result = grade(folder, plans[assignment])
    assert failures(result) == []
    assert result.score == result.max_score == 100


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_stub_scores_zero_with_every_test_not_attempted(course, plans, tmp_path, assignment):
    stub = strip_solutions(course.answer_source(assignment).read_text())
    result = grade(write_submission(tmp_path, assignment, stub), plans[assignment])
    assert result.score == 0
    assert {t.outcome for t in result.tests} == {"not_attempted"}


@pytest.mark.parametrize("style", STYLES)
@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_correct_submissions_in_every_style_score_full_marks(plans, assignment, style):
    path = FIXTURES / style / f"{assignment}.py"
    if not path.is_file():
        pytest.skip(f"no {style} fixture for {assignment}")
    result = grade(path, plans[assignment])
    assert [(t.name, t.message) for t in failures(result)] == []
    assert result.score == 100


def pytest_generate_tests(metafunc):
    if "mutant_id" in metafunc.fixturenames:
        from autograder.course import Course
        from conftest import REPOSITORY

        course = Course.locate(REPOSITORY / "solutions")
        ids = []
        for assignment in ASSIGNMENTS:
            try:
                ids += [m.id for m in load_rubric(course, assignment).mutants]
            except CourseError:  # reported by test_rubric_covers_the_contract_with_100_points
                continue
        metafunc.parametrize("mutant_id", ids)


def test_each_mistake_loses_points_only_where_it_applies_and_is_named(course, plans, tmp_path, mutant_id):
    assignment = mutant_id.split(".")[0]
    (mutant,) = [m for m in plans[assignment].rubrics[assignment][0].mutants if m.id == mutant_id]
    source = course.answer_source(assignment).read_text() + "\n\n# --- the mistake ---\n" + mutant.submission_source
    result = grade(write_submission(tmp_path, assignment, source), plans[assignment])
    failed = failures(result)
    assert failed, f"{mutant_id}: the buggy submission got full marks"
    assert result.score < 100
    assert {t.exercise for t in failed} <= set(mutant.affects), [(t.exercise, t.message) for t in failed]
    assert mutant.exercise in {t.exercise for t in failed}
    named = [t for t in failed if t.mistake == mutant_id]
    assert named, f"{mutant_id} was not named; failures: {[(t.name, t.mistake, t.message) for t in failed]}"
    assert all(mutant.title in t.mistake_title for t in named)


def test_a_full_submission_of_notebooks_scores_like_the_same_code_in_py_files(course, tmp_path):
    """All the assignments at once, as notebooks (examples and all) and as .py files: same scores."""
    import nbformat

    from autograder.notebook import build_notebook

    plan = plan_for(course, *ASSIGNMENTS)
    (tmp_path / "nb").mkdir()
    (tmp_path / "py").mkdir()
    for assignment in ASSIGNMENTS:
        source = course.answer_source(assignment).read_text()
        nbformat.write(build_notebook(source, name=assignment), tmp_path / "nb" / f"{assignment}.ipynb")
        (tmp_path / "py" / f"{assignment}.py").write_text(source)
    from_notebooks, from_files = grade(tmp_path / "nb", plan), grade(tmp_path / "py", plan)
    assert from_notebooks.score == from_files.score == 100 * len(ASSIGNMENTS)
    assert [(t.name, t.outcome) for t in from_notebooks.tests] == [(t.name, t.outcome) for t in from_files.tests]
