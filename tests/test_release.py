"""The student release: generated from solutions/, committed as assignments/, and free of hidden material."""

import io
import json
import shutil
import subprocess
import sys
import tokenize
import zipfile

import pytest

from support import ASSIGNMENTS
from autograder.markers import BEGIN_SOLUTION, END_SOLUTION, solution_regions
from autograder.release import release_drift, release_files, write_release

from conftest import REPOSITORY

LAYOUT_TOKENS = {tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT, tokenize.ENDMARKER,
                 tokenize.COMMENT}


def code_lines(source: str) -> dict[int, str]:
    """The executable text of each line, spacing normalized; comments and docstrings are prose, not code."""
    lines: dict[int, list[str]] = {}
    statement: list[tokenize.TokenInfo] = []
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type not in LAYOUT_TOKENS:
            statement.append(token)
        if token.type == tokenize.NEWLINE:
            if not all(t.type == tokenize.STRING for t in statement):  # a bare string is a docstring
                for t in statement:
                    lines.setdefault(t.start[0], []).append(t.string)
            statement = []
    return {number: " ".join(parts) for number, parts in lines.items()}


def release_code(files: dict[str, str]) -> set[str]:
    """Every line of executable code in the release: the stubs and the notebooks' code cells."""
    found = set()
    for relative, text in files.items():
        if relative.endswith(".py"):
            found |= set(code_lines(text).values())
        elif relative.endswith(".ipynb"):
            for cell in json.loads(text)["cells"]:
                if cell["cell_type"] == "code":
                    found |= set(code_lines("".join(cell["source"]) + "\n").values())
    return found


def hidden_lines(course, assignment: str) -> set[str]:
    """Code that must never reach students: solution bodies and the torch reference.

    Lines that the answer also shows outside its solution regions (visible scaffolding) are not secret.
    """
    source = course.answer_source(assignment).read_text()
    lines = code_lines(source)
    inside = {n for begin, end, _ in solution_regions(source) for n in range(begin + 2, end + 1)}
    visible = {text for n, text in lines.items() if n not in inside}
    secret = {text for n, text in lines.items() if n in inside}
    secret |= set(code_lines(course.reference_source(assignment).read_text()).values())
    for hidden in ("hidden_checks.py", "mutants.py"):
        secret |= set(code_lines((course.solutions / assignment / hidden).read_text()).values())
    # Lines any public checks share with the hidden ones (imports, helpers) are released on purpose.
    for public in course.solutions.glob("*/public_checks.py"):
        visible |= set(code_lines(public.read_text()).values())
    return {line for line in secret - visible if len(line) >= 12}


@pytest.fixture(scope="module")
def files(course):
    return release_files(course)


@pytest.fixture(scope="module")
def built(course, files, tmp_path_factory):
    """The release as `dlgrade release --out DIR` writes it."""
    out = tmp_path_factory.mktemp("release")
    subprocess.run([sys.executable, str(REPOSITORY / "cli.py"), "release", "--out", str(out)],
                   check=True, capture_output=True, cwd=tmp_path_factory.getbasetemp())
    return out


def test_committed_assignments_are_the_current_release(course, files):
    problems = release_drift(files, REPOSITORY / "assignments")
    assert not problems, "assignments/ is out of date with solutions/; run `dlgrade release --out assignments`:\n" \
        + "\n".join(problems)


def test_cli_release_is_identical_to_assignments(built):
    written = sorted(p.relative_to(built).as_posix() for p in built.rglob("*") if p.is_file())
    committed = sorted(p.relative_to(REPOSITORY / "assignments").as_posix()
                       for p in (REPOSITORY / "assignments").rglob("*")
                       if p.is_file() and "__pycache__" not in p.parts)
    assert written == committed
    for relative in written:
        assert (built / relative).read_bytes() == (REPOSITORY / "assignments" / relative).read_bytes(), relative


def test_release_holds_only_stubs_notebooks_and_public_checks(files):
    expected = [f"{a}/{a}{ext}" for a in ASSIGNMENTS for ext in (".py", ".ipynb")]
    expected += [f"{a}/public_checks{ext}" for a in ASSIGNMENTS for ext in (".py", ".json")]
    expected += [f"{a}/assignment.toml" for a in ASSIGNMENTS]
    assert sorted(files) == sorted(expected)


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_frozen_public_checks_hold_public_checks_only(course, files, assignment):
    """The frozen file names only public checks (every one that asks the reference for a value; a
    behaviour check may ask it nothing); of the mutants, only titles and hints travel."""
    from autograder.judge.checks import BehaviourCheck
    from autograder.judge.rubric import load_rubric

    frozen = json.loads(files[f"{assignment}/public_checks.json"])
    rubric = load_rubric(course, assignment)
    public = {c.name for c in rubric.checks if c.visibility == "public"}
    assert {c.name for c in rubric.checks if c.visibility == "public" and not isinstance(c, BehaviourCheck)} \
        <= set(frozen["checks"]) <= public
    text = files[f"{assignment}/public_checks.json"]
    for check in rubric.checks:
        if check.visibility == "hidden" and check.name not in public:
            assert json.dumps(check.description)[1:-1] not in text or not check.description
    for description in frozen["mutants"].values():
        assert set(description) == {"exercise", "title", "hint", "affects"}


def test_public_checks_run_without_the_solutions(course, built, tmp_path):
    """A student's self-check: the release alone, the model answer in place of the stub, all green."""
    import subprocess as sp

    folder = tmp_path / "losses"
    shutil.copytree(built / "losses", folder)
    shutil.copy(course.answer_source("losses"), folder / "losses.py")
    result = sp.run([sys.executable, str(REPOSITORY / "cli.py"), "check", "losses", str(folder)],
                    capture_output=True, text=True, cwd=tmp_path, env={"PATH": "/usr/bin:/bin", "DLGRADE_SOLUTIONS": "/nonexistent"})
    assert result.returncode == 0, result.stderr
    assert "7 of 7 public checks pass" in result.stdout


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_release_contains_no_solution_body_or_reference(course, built, assignment):
    on_disk = {p.relative_to(built).as_posix(): p.read_text() for p in built.rglob("*") if p.is_file()}
    leaked = hidden_lines(course, assignment) & release_code(on_disk)
    assert not leaked, f"hidden code of {assignment} found in the release: {sorted(leaked)}"
    for relative, text in on_disk.items():
        assert BEGIN_SOLUTION not in text and END_SOLUTION not in text, relative
    assert not [line for line in release_code(on_disk) if "torch" in line or "solutions" in line
                or "load_sibling" in line or "reference" in line]


def test_secret_lines_are_actually_found(course):
    """The leak search itself works: an unstripped answer placed in a release is caught."""
    source = course.answer_source("perceptron").read_text()
    leaked = hidden_lines(course, "perceptron") & release_code({"perceptron/perceptron.py": source})
    assert leaked


def test_notebooks_carry_no_outputs(files):
    for relative, text in files.items():
        if relative.endswith(".ipynb"):
            for cell in json.loads(text)["cells"]:
                if cell["cell_type"] == "code":
                    assert cell["outputs"] == [] and cell["execution_count"] is None, relative


def test_solutions_are_not_importable_from_a_release(built):
    probe = "import importlib.util, sys; sys.exit(0 if importlib.util.find_spec('solutions') is None else 1)"
    result = subprocess.run([sys.executable, "-c", probe], cwd=built, capture_output=True)
    assert result.returncode == 0, "the `solutions` package is importable next to the release"


def test_installed_package_ships_the_engine_only(tmp_path):
    """What a student pip-installs is autograder/ and cli.py: no solutions, no references."""
    source = tmp_path / "source"  # a copy, so that the build leaves nothing in the repository
    shutil.copytree(REPOSITORY, source, ignore=shutil.ignore_patterns(".venv", ".git", "build", "*.egg-info"))
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                    "-w", str(tmp_path), str(source)], check=True, capture_output=True)
    (wheel,) = tmp_path.glob("dlgrade-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    top = {name.split("/")[0] for name in names}
    assert top <= {"autograder", "cli.py"} | {n for n in top if n.endswith(".dist-info")}, top
    assert not any("solutions" in name or "reference" in name for name in names)


def test_release_refuses_to_write_into_solutions(course):
    result = subprocess.run([sys.executable, str(REPOSITORY / "cli.py"), "release", "--out",
                             str(course.solutions / "leak")], capture_output=True, text=True)
    assert result.returncode != 0 and "refusing" in result.stderr
    assert not (course.solutions / "leak").exists()


def test_check_mode_reports_drift(course, files, tmp_path):
    write_release(files, tmp_path)
    stub = tmp_path / "perceptron" / "perceptron.py"
    stub.write_text(stub.read_text() + "\n# edited by hand\n")
    (tmp_path / "mlp" / "stray.txt").write_text("x")
    assert release_drift(files, tmp_path) == ["out of date: perceptron/perceptron.py", "not in the release: mlp/stray.txt"]
    result = subprocess.run([sys.executable, str(REPOSITORY / "cli.py"), "release", "--check", "--out", str(tmp_path)],
                            capture_output=True, text=True)
    assert result.returncode == 1 and "out of date: perceptron/perceptron.py" in result.stdout


def test_write_replaces_a_planted_symlink(course, tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    (tmp_path / "out" / "perceptron").mkdir(parents=True)
    (tmp_path / "out" / "perceptron" / "perceptron.py").symlink_to(victim)
    write_release(release_files(course, ["perceptron"]), tmp_path / "out")
    assert victim.read_text() == "keep me"
    assert not (tmp_path / "out" / "perceptron" / "perceptron.py").is_symlink()


@pytest.mark.parametrize("threads", [1, 2])
def test_frozen_values_do_not_depend_on_the_callers_torch_threads(course, threads):
    """torch splits reductions (batch norm's statistics) among its threads and the last bits follow
    the split: the release is recorded with one thread, so it is the same on every machine."""
    import torch

    from autograder.judge.frozen import freeze_public_checks

    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        frozen = freeze_public_checks(course, "normalization")
    finally:
        torch.set_num_threads(before)
    assert frozen == (REPOSITORY / "assignments" / "normalization" / "public_checks.json").read_text()
    assert torch.get_num_threads() == before
