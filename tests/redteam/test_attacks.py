"""Every attack of :mod:`attacks` against the real sandbox: it earns nothing, its verdict is clear,
nothing hidden shows, nothing is left behind, and the next submission is graded as usual."""

from __future__ import annotations

from pathlib import Path

import pytest

from autograder.judge.grader import grade
from autograder.sandbox.bubblewrap import host_markers
from autograder.judge.results import NOT_GRADABLE as STATUS_NOT_GRADABLE
from redteam.attacks import ATTACKS, NOT_GRADABLE
from redteam.harness import (
    ASSIGNMENT, HONEST, JUDGE_SECRET, ORIGINAL_RESULTS, SOLUTIONS, everything_shown, hidden_code_lines, sandbox_processes,
)



def submit(folder: Path, source: str, files: dict, judge_files: Path) -> Path:
    folder.mkdir(parents=True)
    for name, text in {f"{ASSIGNMENT}.py": source, **files}.items():
        text = text.replace("{marker}", str(judge_files)).replace("{solutions}", str(SOLUTIONS))
        text = text.replace("{host}", repr(host_markers()))
        (folder / name).write_text(text)
    return folder


def assert_nothing_left(sandbox, processes_before: list[int], judge_files: Path) -> None:
    assert (judge_files / "results.json").read_text() == ORIGINAL_RESULTS
    assert sorted(p.name for p in judge_files.iterdir()) == ["results.json"]
    assert not list(Path("/tmp").glob("dlgrade-attack-*"))
    assert len(sandbox_processes(sandbox)) == len(processes_before), "a process outlived its submission"


@pytest.mark.parametrize("attack", ATTACKS, ids=lambda attack: attack.name)
def test_the_attack_earns_nothing_and_leaves_nothing(attack, tmp_path, judge_files, redteam_sandbox, attack_plan):
    before = sandbox_processes(redteam_sandbox)
    folder = submit(tmp_path / "attacker", attack.source, attack.files, judge_files)

    result = grade(folder, attack_plan, start_child=redteam_sandbox.start_child)

    assignment = result.assignments[0]
    assert assignment.score == 0 and sum(t.score for t in result.tests) == 0
    assert not result.insecure
    if attack.expect == NOT_GRADABLE or (assignment.status == STATUS_NOT_GRADABLE and NOT_GRADABLE in attack.expect):
        assert assignment.status == STATUS_NOT_GRADABLE
        assert attack.message in assignment.reason
    else:
        step_tests = [t for t in result.tests if t.exercise == f"{ASSIGNMENT}.step"]
        assert step_tests
        outcomes = {t.outcome for t in step_tests}
        assert outcomes <= attack.expect, [(t.name, t.outcome, t.message) for t in step_tests]
        assert any(attack.message in t.message for t in step_tests)
    shown = everything_shown(result)
    assert JUDGE_SECRET not in shown
    for line in hidden_code_lines():
        assert line not in shown, f"hidden code leaked: {line}"

    assert_nothing_left(redteam_sandbox, before, judge_files)
    honest = grade(HONEST.parent, attack_plan, start_child=redteam_sandbox.start_child)
    assert honest.assignments[0].score == honest.assignments[0].max_score, "the next submission was affected"


def test_there_are_at_least_thirty_attacks():
    assert len({attack.name for attack in ATTACKS}) == len(ATTACKS) >= 30
