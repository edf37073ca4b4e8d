"""Grade one submission: find its files, load each in the child, run every check, collect results.

The pipeline, one small step each: :func:`find_files` -> :func:`read_code` -> ``Session.load``
-> :func:`run_checks` for the checks of the rubric (:func:`run_check` for one, :func:`run_group`
for neighbours that share a round trip) -> :class:`SubmissionResult`. A file that
cannot be read or loaded makes that assignment *not gradable* (kept apart from a score of 0);
a missing file makes the assignment *missing* (0, "not handed in") and its tests *not attempted*; nothing one assignment does affects another's
verdicts, because every comparison happens here, in the trusted process.
"""

from __future__ import annotations

import builtins
import hashlib
import random
import re
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from autograder.judge.contract import ContractCheck
from autograder.judge.checks import PUBLIC, Check, SecondDrawTrial, Trial
from autograder.judge.results import (
    ERROR, FAILED, MISSING, NOT_ATTEMPTED, NOT_GRADABLE, PASSED, TIMEOUT, GRADED,
    AssignmentResult, SubmissionResult, TestResult,
)
from autograder.judge.rubric import PUBLIC_SEED, Rubric, live_oracle, load_rubric
from autograder.errors import DlgradeError
from autograder.sandbox import imports
from autograder.judge.session import (
    JUDGE_CPU_SECONDS, BudgetExceeded, LoadError, Session, StudentError, TestTimeout, WorkerCrashed,
)
from autograder.submission import SubmissionError, find_files, read_code


GROUP_SIZE = 16  # checks per shared round trip
GROUP_BYTES = 1 << 20  # a check sending more than this to the child gets a round trip to itself


@dataclass(frozen=True)
class Plan:
    """What to grade with: a rubric and an oracle per assignment, a seed and a device."""

    rubrics: dict[str, tuple[Rubric, object]]
    seed: int
    device: str = "cpu"
    load_seconds: float = 20.0  # the time limit for running a file's top level
    judge_cpu_seconds: float = JUDGE_CPU_SECONDS  # the judge's own CPU time for one submission

    @classmethod
    def for_course(cls, course, assignments, seed: int, device: str = "cpu") -> "Plan":
        """The hidden rubric of each assignment with its live torch reference on ``device``."""
        rubrics = {}
        for assignment in assignments:
            rubric = load_rubric(course, assignment)
            rubrics[assignment] = (rubric, live_oracle(course, rubric, device))
        return cls(rubrics, seed, device)

    @classmethod
    def for_submission(cls, course, assignments, found, seed: int, device: str = "cpu") -> "Plan":
        """The plan of a submission whose files are ``found`` ({assignment: path}): the hidden rubric,
        torch reference and known mistakes of each assignment it has a file for; of the others, the
        rubric alone (their tests are not attempted, and nothing runs for them), so a one-file
        submission loads one reference, not seven."""
        graded = cls.for_course(course, [a for a in assignments if a in found], seed, device)
        missing = cls.outline(course, [a for a in assignments if a not in found], seed, device)
        return cls({a: graded.rubrics.get(a) or missing.rubrics[a] for a in assignments}, seed, device)

    @classmethod
    def outline(cls, course, assignments, seed: int, device: str = "cpu") -> "Plan":
        """The rubrics without mutants or torch references (no torch import): for a process that
        records results and builds failure verdicts, such as a batch's coordinator, but never grades."""
        return cls({a: (load_rubric(course, a, with_mutants=False), None) for a in assignments}, seed, device)


def new_seed() -> int:
    """A per-run seed for the hidden inputs (a course secret can replace it)."""
    return random.SystemRandom().randrange(2**31)


def submission_seed(seed: int, student: str, assignment: str) -> int:
    """The seed of one student's hidden inputs for one assignment: derived from the course secret
    ``seed``, the student and the assignment (SHA-256, 63 bits), so that inputs a submission
    manages to leak are another student's no more, and say nothing of the secret itself. The same
    three always give the same inputs: a regrade gives the same verdicts."""
    digest = hashlib.sha256(f"{int(seed)}\0{student}\0{assignment}".encode("utf-8", "surrogatepass")).digest()
    return int.from_bytes(digest[:8], "big") >> 1


def _student_of(path: Path, assignments=()) -> str:
    """Who submitted ``path`` when nobody said: its folder's name (a file: its parent folder's), or,
    for a folder named after an assignment (nbgrader's ``submitted/<student>/<assignment>/``), the
    name of the folder above it."""
    path = Path(path).resolve()
    folder = path.parent if path.is_file() else path
    if folder.name.lower() in {a.lower() for a in assignments} and folder.parent.name:
        return folder.parent.name
    return folder.name


def grade(path: Path, plan: Plan, start_child=None, student: str | None = None) -> SubmissionResult:
    """Grade the submission at ``path`` (a folder or one assignment file).

    ``start_child`` gives a fresh child for the submission (``sandbox.start_child`` of an
    :func:`~autograder.sandbox.open_sandbox`); by default, this process's shared sandbox.
    ``student``: whose submission it is (the hidden inputs depend on it, :func:`submission_seed`);
    by default the name of the submission's folder.

    Raises SubmissionError only when ``path`` itself is unusable (missing, or a file that is no
    assignment): the tool cannot run. Everything that goes wrong inside a file is a verdict, and
    whatever a submission sends back is a verdict for the test it answers (or, past the judge's
    CPU budget, for the rest of the submission), never an exception out of here.
    """
    student = _student_of(path, plan.rubrics) if student is None else student
    started = time.perf_counter()
    files = find_files(Path(path), tuple(plan.rubrics))
    assignments: list[AssignmentResult] = []
    tests: list[TestResult] = []
    timing = {"process_start_s": 0.0, "loading_s": 0.0, "checks_s": 0.0}
    if start_child is None:
        from autograder.sandbox import shared_sandbox
        start_child = shared_sandbox().start_child
    with Session(start_child, plan.judge_cpu_seconds) as session:
        if files:
            mark = time.perf_counter()
            session.start()
            timing["process_start_s"] = time.perf_counter() - mark
        for assignment, (rubric, oracle) in plan.rubrics.items():
            file = files.get(assignment)
            if file is None:
                tests += [_not_submitted(check, assignment) for check in rubric.checks]
                assignments.append(AssignmentResult(assignment, MISSING, 0.0, rubric.max_score, None,
                                                    f"not handed in (no {assignment}.py or {assignment}.ipynb)"))
                continue
            mark = time.perf_counter()
            which = graded_file_note(file)
            try:
                code = read_code(assignment, file)
                allowed = rubric.spec.allowed_imports if rubric.spec is not None else None
                notes = session.load(assignment, code.cells, file.name, code.notebook, plan.load_seconds, code.numbers,
                                     allowed)
            except (SubmissionError, LoadError) as error:
                assignments.append(AssignmentResult(assignment, NOT_GRADABLE, 0.0, rubric.max_score, file.name,
                                                    f"{error} [{which}]" if which else str(error)))
                continue
            finally:
                timing["loading_s"] += time.perf_counter() - mark
            mark = time.perf_counter()
            results = run_checks(rubric.checks, session, oracle, submission_seed(plan.seed, student, assignment),
                                 assignment)
            timing["checks_s"] += time.perf_counter() - mark
            contract_with_the_work(results, rubric.checks)
            if rubric.spec is not None:
                point_to_dependencies(results, {e.name: e.depends_on for e in rubric.spec.exercises})
            _point_to_cells_not_run(results, notes)
            if which:
                notes = [which] + notes
                for test in results:
                    test.message = f"{test.message} [{which}]" if test.message else f"[{which}]"
            tests += results
            assignments.append(AssignmentResult(assignment, GRADED, round(sum(t.score for t in results), 6),
                                                rubric.max_score, file.name, notes=notes))
    return SubmissionResult(
        submission=str(path), assignments=assignments, tests=tests, seed=plan.seed, device=plan.device,
        checks_version={a: r.version for a, (r, _) in plan.rubrics.items()},
        duration_s=time.perf_counter() - started, timing=timing, insecure=session.insecure,
    )


def graded_file_note(file: Path) -> str:
    """Which of ``<a>.py`` and ``<a>.ipynb`` was graded, when the submission holds both; else ""."""
    other = file.with_suffix(".py" if file.suffix == ".ipynb" else ".ipynb")
    if not other.is_file():
        return ""
    return f"graded {file.name}, not {other.name}: of the two, the more recently saved is graded"


FAILING = (FAILED, ERROR, TIMEOUT, NOT_ATTEMPTED)


def contract_with_the_work(results: list[TestResult], checks) -> None:
    """A function's contract checks earn their points only together with the work: when none of its
    other tests earns anything (a stub, a function that returns garbage), its contract tests earn
    nothing either, or leaving the inputs alone would be worth points on its own. ``results`` are
    those of ``checks``, in order."""
    contract = [isinstance(check, ContractCheck) for check in checks]
    earned: dict[str, float] = {}
    for result, is_contract in zip(results, contract):
        if not is_contract:
            earned[result.exercise] = earned.get(result.exercise, 0.0) + result.score
    for result, is_contract in zip(results, contract):
        if is_contract and result.score > 0 and earned.get(result.exercise, 0.0) <= 0:
            function = result.exercise.split(".")[-1]
            result.score, result.outcome = 0.0, FAILED
            result.message = (f"the contract holds, but its points come with a working {function}: no other "
                              f"test of {function} passes yet")


def point_to_dependencies(results: list[TestResult], depends_on: dict[str, tuple[str, ...]]) -> None:
    """A failed test of a function that runs the student's other functions (``depends_on``, as
    declared) starts its message with those that fail their own checks: "forward fails its own
    checks; train depends on it". The student fixes the piece first, not the composition."""
    failing = {r.exercise.split(".")[-1] for r in results if r.outcome in FAILING}
    for result in results:
        function = result.exercise.split(".")[-1]
        if result.outcome not in FAILING:
            continue
        broken = [d for d in depends_on.get(function, ()) if d in failing]
        if broken:
            pieces, one = " and ".join(broken), len(broken) == 1
            result.message = (f"{pieces} {'fails its' if one else 'fail their'} own checks; {function} depends on "
                              f"{'it' if one else 'them'}: fix {pieces} first. {result.message}")


def _point_to_cells_not_run(results: list[TestResult], notes: list[str]) -> None:
    """A function reported missing may be defined in a notebook cell that failed or did not run:
    say so in that test's message (the notes name the cell and the line)."""
    cells = [note for note in notes if note.startswith("code cell ") and ("not run" in note or "raised" in note)]
    if not cells:
        return
    for test in results:
        if test.outcome == NOT_ATTEMPTED and "is not defined" in test.message:
            shown = "; ".join(cells[:3]) + ("; ..." if len(cells) > 3 else "")
            test.message += f" (is it defined in a notebook cell that did not run? {shown})"


def run_checks(checks: list[Check], session: Session, oracle, seed: int, module: str) -> list[TestResult]:
    """Every check of one assignment, in order, then the known mistakes named where confirmed.
    Consecutive checks that need one round trip each share it (:func:`run_group`): a full
    submission makes a few dozen round trips, not hundreds."""
    results = _run_all(checks, session, oracle, seed, module)
    name_mistakes(results, checks, lambda check: _second_draw(check, session, oracle, seed, module))
    return results


MIN_MATCHES = 2  # discriminating inputs a known mistake must be matched on before it is named


def name_mistakes(results: list[TestResult], checks: list[Check], second_draw) -> None:
    """Name a known mistake on a failed test only when sure: the submission reproduces it on at
    least :data:`MIN_MATCHES` distinct inputs where it differs from the reference (across all the
    checks of the assignment), and on more such inputs than it differs from it.

    A candidate seen on one input only is confirmed on a second draw of the same check's inputs
    (``second_draw(check)`` returns that run's sightings, on a new draw with its batches
    reversed); an input seen twice counts once."""
    evidence: dict[str, dict[int, bool]] = {}
    for result in results:
        for sighting in result.sightings:
            evidence.setdefault(sighting.mutant.id, {})[sighting.key] = sighting.matched
    by_name = {check.name: check for check in checks}
    for result in results:
        candidates = [s.mutant for s in result.sightings if s.matched]
        for mutant in candidates:
            seen = evidence[mutant.id]
            if sum(seen.values()) == 1 and result.name in by_name:
                for sighting in second_draw(by_name[result.name]):
                    evidence.setdefault(sighting.mutant.id, {})[sighting.key] = sighting.matched
            if confirmed_mistake(evidence[mutant.id]):
                result.mistake, result.mistake_title, result.hint = mutant.id, mutant.title, mutant.hint
                break
        result.sightings = ()


def confirmed_mistake(seen: dict[int, bool]) -> bool:
    """``seen``: input key -> whether the submission matched the mistake there (discriminating inputs
    only). Matched on at least :data:`MIN_MATCHES` inputs, and on more inputs than not (a dependent
    exercise computed another way may legitimately differ from the mistake's output)."""
    matched = sum(seen.values())
    return matched >= MIN_MATCHES and matched > len(seen) - matched


def _second_draw(check: Check, session: Session, oracle, seed: int, module: str) -> tuple:
    """The sightings of ``check`` run again on another draw of its inputs (none if it fails to run)."""
    trial = SecondDrawTrial(check, session, oracle, (PUBLIC_SEED if check.visibility == PUBLIC else seed) + 1)
    try:
        with session.test(module, check.timeout):
            return check.run(trial).sightings
    except (StudentError, TestTimeout, WorkerCrashed):
        return ()


def _run_all(checks: list[Check], session: Session, oracle, seed: int, module: str) -> list[TestResult]:
    results: list[TestResult] = []
    group: list[Check] = []
    for check in checks:
        if not check.groupable:
            results += run_group(group, session, oracle, seed, module)
            group = []
            results.append(run_check(check, session, oracle, seed, module))
            continue
        group.append(check)
        if len(group) == GROUP_SIZE:
            results += run_group(group, session, oracle, seed, module)
            group = []
    return results + run_group(group, session, oracle, seed, module)


def run_check(check: Check, session: Session, oracle, seed: int, module: str) -> TestResult:
    """Run one check under its own time limit and turn whatever happens into a test result."""
    trial = _trial(check, session, oracle, seed)
    if not check.groupable:  # a probe that fetches several times: it handles answers throughout
        return _judged(check, session, module, lambda: _using_answer(lambda: check.run(trial)))

    def verdict():
        prepared = check.prepare(trial)  # the trusted side: its failures are the tool's own
        received = trial.fetch(prepared.fetch)
        return _using_answer(lambda: check.conclude(trial, prepared, received))

    return _judged(check, session, module, verdict)


class UnusableAnswer(Exception):
    """Judging an answer failed on something the answer holds (a value no check expected)."""


_SESSION_ENDINGS = (StudentError, TestTimeout, WorkerCrashed, BudgetExceeded, DlgradeError)


def _using_answer(judge):
    """``judge()``, the part of a check that reads what the submission sent: an exception there
    (a TypeError on a value of a kind no check expected...) is a verdict for this test alone."""
    try:
        return judge()
    except _SESSION_ENDINGS:
        raise
    except Exception as error:  # noqa: BLE001 - the answer is the student's, its failure is the test's
        raise UnusableAnswer(type(error).__name__) from error


def run_group(checks: list[Check], session: Session, oracle, seed: int, module: str) -> list[TestResult]:
    """Run groupable checks with their student calls in one round trip, then judge each.

    Each check's calls stay independent of the others' (an exception stops only its own). If the
    group as a whole times out or kills the child, nobody can tell which check did it, so each is
    run again on its own (a fresh child, its own time limit): the verdicts are exactly those of
    :func:`run_check`. A check whose inputs are large gets its round trip to itself.
    """
    if len(checks) < 2:
        return [run_check(check, session, oracle, seed, module) for check in checks]
    results: list[TestResult | None] = [None] * len(checks)
    members, alone = [], []
    session.module = module
    session.take_queued()
    for number, check in enumerate(checks):
        trial = _trial(check, session, oracle, seed)
        started = time.perf_counter()
        try:
            prepared = check.prepare(trial, grouped=True)
        except (TestTimeout, BudgetExceeded) as stop:  # a function that already ran out of time; no budget left
            session.take_queued()
            results[number] = _judged(check, session, module, lambda stop=stop: _raise(stop))
            continue
        queued = session.take_queued()
        member = (number, check, trial, prepared, queued, time.perf_counter() - started)
        (alone if _array_bytes(queued) > GROUP_BYTES else members).append(member)
    for batch in ([members] if members else []) + [[member] for member in alone]:
        started = time.perf_counter()
        try:
            answers = session.fetch_group(module, max(m[1].timeout for m in batch),
                                          [(queued, prepared.fetch) for _, _, _, prepared, queued, _ in batch])
        except (TestTimeout, WorkerCrashed, BudgetExceeded):
            for number, check, *_ in batch:
                results[number] = run_check(check, session, oracle, seed, module)
            continue
        share = (time.perf_counter() - started) / len(batch)
        for (number, check, trial, prepared, _, prepare_s), answer in zip(batch, answers):
            results[number] = _judged(
                check, session, module,
                lambda check=check, trial=trial, prepared=prepared, answer=answer: _concluded(
                    check, trial, prepared, session.member_value(answer, prepared.fetch)),
                extra_seconds=prepare_s + share)
    return results


def _concluded(check: Check, trial: Trial, prepared, received):
    return _using_answer(lambda: check.conclude(trial, prepared, received))


def _trial(check: Check, session: Session, oracle, seed: int) -> Trial:
    return Trial(check, session, oracle, PUBLIC_SEED if check.visibility == PUBLIC else seed)


def _raise(error: Exception):
    raise error


def _array_bytes(value) -> int:
    """The bytes of the arrays inside queued requests (what the round trip will carry to the child)."""
    if isinstance(value, np.ndarray):
        return value.nbytes
    if isinstance(value, dict):
        return sum(_array_bytes(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return sum(_array_bytes(v) for v in value)
    return 0


def _judged(check: Check, session: Session, module: str, verdict_of, extra_seconds: float = 0.0) -> TestResult:
    """``verdict_of()`` under the check's time limit, and whatever happens as a test result."""
    result = TestResult(check.name, check.assignment, check.exercise, 0.0, float(check.points), FAILED,
                        visibility=check.visibility)
    public = check.visibility == PUBLIC
    started = time.perf_counter()
    try:
        with session.test(module, check.timeout):
            verdict = verdict_of()
    except StudentError as error:
        if error.kind in ("not_implemented", "missing"):
            result.outcome = NOT_ATTEMPTED
            name = _identifier((error.where or {}).get("function")) or check.function
            if error.kind == "missing":
                result.message = error.message if public else "a function this test calls is not defined"
            else:
                result.message = f"{name} is not implemented yet (it raises NotImplementedError)"
        elif error.kind == "forbidden":
            result.outcome = FAILED
            result.message = forbidden_message(error.message)
        elif error.type_name == "MemoryError":
            result.outcome = ERROR
            result.message = ("killed: memory (your code asked for more memory than the sandbox allows; "
                              "is an array far larger than the inputs?)")
        else:
            result.outcome = ERROR
            result.message = (f"your code raised {error.describe()}" if public else
                              f"your code raised {_exception_kind(error.type_name)} "
                              "(a hidden test shows no exception message)")
    except TestTimeout as timeout:
        result.outcome = TIMEOUT
        result.message = (str(timeout) if str(timeout) else
                          f"did not finish within {check.timeout:g} s: is there an infinite loop?")
    except BudgetExceeded as spent:
        result.outcome = TIMEOUT
        result.message = str(spent)
    except WorkerCrashed as crash:
        result.outcome = ERROR
        result.message = (f"the process running your code stopped during this test: {crash}" if public else
                          "the process running your code stopped during this test, or sent an answer the "
                          "judge could not use (a hidden test shows no details)")
    except UnusableAnswer as unusable:
        result.outcome = ERROR
        result.message = f"the judge could not use the answer ({unusable}): is it the kind of value asked for?"
    else:
        result.outcome = PASSED if verdict.passed else FAILED
        result.score = float(check.points) if verdict.passed else float(check.points) * (verdict.fraction or 0.0)
        result.message = verdict.message
        result.curves = verdict.curves
        if check.visibility == PUBLIC:
            result.details = verdict.details
        if not verdict.passed:
            result.sightings = verdict.sightings  # named later, once confirmed (confirmed_mistake)
        if not verdict.passed and not result.message:
            result.message = check.description or "the result is wrong"
    if check.visibility != PUBLIC and check.description:
        # What failed first (it survives truncation in a table), then what the hidden check checks.
        result.message = f"{result.message} (checked: {check.description})" if result.message else check.description
    advice = [_advice(w) for w in session.warnings] if public else [_hidden_advice(w) for w in session.warnings]
    result.advice = list(dict.fromkeys(advice))
    result.duration_s = time.perf_counter() - started + extra_seconds
    return result


_FLOATING_POINT_EVENTS = ("overflow", "invalid value", "divide by zero", "underflow")


def _builtin_name(name: str, base: type) -> str | None:
    """``name`` when it names a built-in subclass of ``base`` (fixed words, no data in them)."""
    kind = getattr(builtins, name, None) if isinstance(name, str) and name.isidentifier() else None
    return name if isinstance(kind, type) and issubclass(kind, base) else None


def _exception_kind(type_name: str) -> str:
    """What a hidden test says of an exception: its built-in type, or that it has one of its own."""
    return _builtin_name(type_name, BaseException) or "an exception of its own class"


def _identifier(name) -> str | None:
    """A function name fit to show: letters and underscores, at most 60 (no digits: no data)."""
    return name if isinstance(name, str) and re.fullmatch(r"[A-Za-z_]{1,60}", name) else None


def _hidden_advice(warning: str) -> str:
    """A warning from a hidden test reduced to its category and, for NumPy's floating-point
    warnings, which event (overflow...): fixed words only, nothing of its text."""
    category = _builtin_name(warning.split(":", 1)[0], Warning) or "a warning"
    event = next((e for e in _FLOATING_POINT_EVENTS if e in warning), None)
    if event:
        return (f"your code triggered a {category} ({event}); a numerically stable formulation avoids it "
                "(this costs no points)")
    return f"your code triggered a {category} (this costs no points)"


_BEFORE, _AFTER = imports.message("PACKAGE").split("PACKAGE")  # the child's own wording, around the name
_FORBIDDEN = re.compile(f"^{re.escape(_BEFORE)}([A-Za-z_][A-Za-z0-9_]{{0,79}}){re.escape(_AFTER)}$")


def forbidden_message(reported: str) -> str:
    """The verdict for a package the assignment does not allow, rebuilt here from the package name
    alone: the child's text is not shown as such (a submission could forge the error to carry
    hidden inputs out)."""
    match = _FORBIDDEN.match(reported or "")
    return imports.message(match.group(1) if match else "a package")


def _advice(warning: str) -> str:
    if "overflow" in warning or "invalid value" in warning or "divide by zero" in warning:
        return f"your code triggered '{warning}'; a numerically stable formulation avoids it (this costs no points)"
    return f"your code triggered '{warning}' (this costs no points)"


def _not_submitted(check: Check, assignment: str) -> TestResult:
    return TestResult(check.name, check.assignment, check.exercise, 0.0, float(check.points), NOT_ATTEMPTED,
                      f"no {assignment}.py or {assignment}.ipynb was submitted", visibility=check.visibility)
