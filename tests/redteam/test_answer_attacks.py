"""Attacks on the judge's side of the conversation (issue 17, part B): answers forged by a child
whose serving code the submission rewrote, answers built to make the judge work without bound,
and student code that tries to carry hidden inputs out through what it says (exceptions, warnings,
its exit status, the names of its types).

Each attack is graded in a small batch, between two honest students, with the same sandbox (as a
worker grades one submission after another). Each asserts its verdict, that nothing hidden and no
hidden input reached any output, and that both honest students kept their exact grade."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest

from autograder.judge.grader import grade
from autograder.judge.results import GRADED
from redteam.harness import ASSIGNMENT, HONEST, JUDGE_SECRET, everything_shown, hidden_code_lines

LEAK = "LEAKED-INPUTS"
HONEST_STUDENTS = ("honest-before", "honest-after")

# The child module the submission runs in: its ``encode_parts`` builds every answer. Replacing it
# when the module loads makes the child answer every later request with the raw bytes ``body``
# (``z``: the last input step saw).
FORGE = """import json, struct, sys
import numpy as np
def frame(head, blobs=()):
    parts = [struct.pack('>Q', len(head)), head, struct.pack('>I', len(blobs))]
    for blob in blobs:
        parts += [struct.pack('>Q', len(blob)), blob]
    return b''.join(parts)
def npy(descr, shape, data=b''):
    header = ("{{'descr': '%s', 'fortran_order': False, 'shape': %s, }}" % (descr, shape)).encode()
    header += b' ' * ((64 - (10 + len(header) + 1) % 64) % 64) + b'\\n'
    return b'\\x93NUMPY\\x01\\x00' + struct.pack('<H', len(header)) + header + data
seen = [0]
def forge(document):
    z = seen[-1]
    body = {body}
    return [body]
sys.modules['autograder.sandbox.child'].encode_parts = forge
def step(z):
    seen.append(z)
    return np.zeros(np.shape(z), np.int64)
"""


def forged(body: str) -> str:
    return FORGE.replace("{body}", body)


CORRECT = HONEST.read_text()
# Megabytes of JSON per answer: refused by their shape, or, where a test gathers several of them,
# past the test's deadline, which covers the judge's decoding too. Either way, bounded.
BOUNDED = {"failed", "timeout"}


@dataclass(frozen=True)
class AnswerAttack:
    name: str
    source: str
    outcomes: set  # the outcomes allowed for the tests of step
    message: str = ""  # a fragment one step test's message must contain
    full_marks: bool = False  # a correct answer that also tries to leak: it keeps its points
    extra: dict = field(default_factory=dict)


ATTACKS = [
    # --- decoding is total: forged answers are the wire's own error, for that test alone
    AnswerAttack("forged_unhashable_dict_key",
                 forged("""frame(json.dumps({'ok': True, 'value': {'$dict': [[{'$tuple': [[1]]}, 1]]}}).encode())"""),
                 {"error"}, "not valid plain data"),
    AnswerAttack("forged_zero_itemsize_array",
                 forged("""frame(json.dumps({'ok': True, 'value': {'$array': 0}}).encode(), [npy('|V0', '(3,)')])"""),
                 {"failed", "error"}),
    AnswerAttack("forged_shape_past_64_bits",
                 forged("""frame(json.dumps({'ok': True, 'value': {'$array': 0}}).encode(),
                                   [npy('<f8', '(0, 10000000000000000000000)')])"""), {"error"}, "not valid plain data"),
    AnswerAttack("forged_shape_product_overflow",
                 forged("""frame(json.dumps({'ok': True, 'value': {'$array': 0}}).encode(),
                                   [npy('<f8', '(0, 4611686018427387904, 4)')])"""), {"error"}, "not valid plain data"),
    AnswerAttack("forged_huge_json_integer", forged("""frame(b'{"ok": true, "value": ' + b'9' * 5000 + b'}')"""),
                 {"error"}, "not valid plain data"),
    AnswerAttack("forged_deep_json", forged("""frame(b'[' * 200000 + b']' * 200000)"""), {"error"},
                 "not valid plain data"),
    AnswerAttack("forged_answer_that_is_a_list", forged("""frame(json.dumps([1, 2, 3]).encode())"""), {"error"},
                 "could not use the answer"),
    AnswerAttack("forged_error_of_the_wrong_types",
                 forged("""frame(json.dumps({'ok': False, 'error': {'kind': 7, 'type': ['x'], 'message': {'a': 1},
                                                                   'where': 'line 3'}}).encode())"""), {"error"}),
    # --- trusted work is bounded: the judge never converts more than the check expects
    AnswerAttack("int8_array_of_64_million_entries",
                 "import numpy as np\ndef step(z):\n    return np.zeros(64 << 20, np.int8)\n", {"failed"}, "has shape"),
    AnswerAttack("list_of_a_million_numbers",
                 "def step(z):\n    return [0.0] * 1_000_000\n", BOUNDED, "has shape"),
    AnswerAttack("ragged_list_with_a_million_long_row",
                 "import numpy as np\ndef step(z):\n    z = np.asarray(z)\n"
                 "    rows = [[0] * (z.shape[-1] if z.ndim else 1) for _ in range(len(z) if z.ndim > 1 else 1)]\n"
                 "    rows[-1] = [0] * 1_000_000\n    return rows if z.ndim > 1 else rows[0]\n", BOUNDED),
    # --- hidden tests show no values
    AnswerAttack("exception_message_carries_the_inputs",
                 f"import numpy as np\ndef step(z):\n    raise ValueError('{LEAK}' + repr(np.asarray(z).tolist()))\n",
                 {"error"}, "ValueError"),
    AnswerAttack("correct_answer_warns_with_the_inputs",
                 CORRECT + f"\nimport warnings\n_step = step\ndef step(z):\n"
                           f"    warnings.warn('{LEAK}' + repr(np.asarray(z).tolist()))\n    return _step(z)\n",
                 {"passed"}, full_marks=True),
    AnswerAttack("exception_class_named_after_the_inputs",
                 "import numpy as np\ndef step(z):\n    digits = ''.join(chr(65 + int(d)) for d in str(abs(hash(str(np.asarray(z).tolist()))))[:12])\n"
                 f"    raise type('{LEAK.replace('-', '_')}' + digits, (Exception,), {{}})()\n",
                 {"error"}, "an exception of its own class"),
    AnswerAttack("exit_status_encodes_the_inputs",
                 "import os, numpy as np\ndef step(z):\n    os._exit(int(np.sum(np.abs(np.asarray(z, float))) * 7) % 200 + 50)\n",
                 {"error"}, "stopped"),
    AnswerAttack("forged_protocol_error_carries_the_inputs",
                 forged(f"frame(json.dumps({{'ok': False, 'error': {{'kind': 'protocol', 'type': '{LEAK}', "
                        f"'message': '{LEAK}' + repr(np.asarray(z).tolist()), "
                        f"'where': {{'line': 3, 'function': '{LEAK}'}}}}}}).encode())"),
                 {"error"}),
]


def write(folder: Path, source: str) -> Path:
    folder.mkdir(parents=True)
    (folder / f"{ASSIGNMENT}.py").write_text(source)
    return folder


def grades(result) -> list[tuple]:
    return [(t.name, t.score, t.outcome) for t in result.tests]


@pytest.fixture(scope="module")
def honest_grades(tmp_path_factory, redteam_sandbox, attack_plan):
    """Each honest student's grade alone: what they must keep in a batch with an attacker."""
    base = tmp_path_factory.mktemp("alone")
    return {name: grades(grade(write(base / name, CORRECT), attack_plan, start_child=redteam_sandbox.start_child,
                               student=name)) for name in HONEST_STUDENTS}


def hidden_text(result) -> str:
    return "\n".join(f"{t.message}\n{t.details}\n{t.hint}\n" + "\n".join(t.advice)
                     for t in result.tests if t.visibility == "hidden")


@pytest.mark.parametrize("attack", ATTACKS, ids=lambda attack: attack.name)
def test_the_answer_attack_gets_its_verdict_leaks_nothing_and_costs_no_other_student(
        attack, tmp_path, redteam_sandbox, attack_plan, honest_grades):
    batch = {HONEST_STUDENTS[0]: CORRECT, "attacker": attack.source, HONEST_STUDENTS[1]: CORRECT}
    results = {name: grade(write(tmp_path / name, source), attack_plan, start_child=redteam_sandbox.start_child,
                           student=name) for name, source in batch.items()}

    attacked = results["attacker"]
    assert attacked.assignments[0].status == GRADED
    step_tests = [t for t in attacked.tests if t.exercise == f"{ASSIGNMENT}.step"]
    assert any(t.visibility == "hidden" for t in step_tests)
    assert {t.outcome for t in step_tests} <= attack.outcomes, [(t.name, t.outcome, t.message) for t in step_tests]
    assert any(attack.message in t.message for t in step_tests)
    step_score = sum(t.score for t in step_tests)
    assert step_score == (sum(t.max_score for t in step_tests) if attack.full_marks else 0)

    shown = everything_shown(attacked)
    assert JUDGE_SECRET not in shown
    for line in hidden_code_lines():
        assert line not in shown, f"hidden code leaked: {line}"
    assert LEAK not in hidden_text(attacked) and LEAK.replace("-", "_") not in hidden_text(attacked)

    for name in HONEST_STUDENTS:
        assert grades(results[name]) == honest_grades[name], f"{name}'s grade changed in a batch with {attack.name}"


def test_there_are_at_least_ten_answer_attacks():
    assert len({attack.name for attack in ATTACKS}) == len(ATTACKS) >= 10
