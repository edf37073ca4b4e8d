"""The `dlgrade` command line: installed, helpful, and clear when it cannot run."""

import shutil
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from support import ASSIGNMENTS
from cli import main


def dlgrade_executable():
    return shutil.which("dlgrade", path=str(Path(sys.executable).parent)) or shutil.which("dlgrade")


def test_console_script_is_installed_and_helps():
    executable = dlgrade_executable()
    assert executable, "the `dlgrade` console script is not installed: pip install -e ."
    result = subprocess.run([executable, "--help"], capture_output=True, text=True, check=True)
    assert "release" in result.stdout and "assignments" in result.stdout


def test_assignments_lists_the_course():
    result = CliRunner().invoke(main, ["assignments"])
    assert result.exit_code == 0
    for assignment in ASSIGNMENTS:
        assert assignment in result.output
    assert "binary_cross_entropy_with_logits" in result.output


def test_release_of_one_assignment(tmp_path):
    result = CliRunner().invoke(main, ["release", "dropout", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (tmp_path / "dropout").iterdir()) == [
        "assignment.toml", "dropout.ipynb", "dropout.py", "public_checks.json", "public_checks.py"]
    assert [p.name for p in tmp_path.iterdir()] == ["dropout"]


def test_unknown_assignment_is_refused(tmp_path):
    result = CliRunner().invoke(main, ["release", "convnets", "--out", str(tmp_path)])
    assert result.exit_code == 2 and "convnets" in result.output


def test_missing_solutions_folder_is_a_clear_error(tmp_path):
    result = CliRunner().invoke(main, ["release", "--out", str(tmp_path / "out"),
                                       "--solutions", str(tmp_path / "nowhere")])
    assert result.exit_code == 1
    assert "no solutions directory" in result.output and "--solutions" in result.output


def test_broken_markers_are_a_clear_error(tmp_path, course):
    import shutil

    broken = tmp_path / "solutions" / "perceptron"
    shutil.copytree(course.solutions / "perceptron", broken, ignore=shutil.ignore_patterns("__pycache__"))
    source = course.answer_source("perceptron").read_text().replace("    ### END SOLUTION\n", "", 1)
    (broken / "perceptron.py").write_text(source)
    result = CliRunner().invoke(main, ["release", "perceptron", "--out", str(tmp_path / "out"),
                                       "--solutions", str(tmp_path / "solutions")])
    assert result.exit_code == 1
    assert "perceptron.py" in result.output and "SOLUTION" in result.output
    assert not (tmp_path / "out").exists()


def test_course_config_names_the_solutions(tmp_path, monkeypatch, course):
    from autograder.course import Course

    monkeypatch.delenv("DLGRADE_SOLUTIONS", raising=False)
    (tmp_path / "dlgrade.toml").write_text(f'solutions = "{course.solutions}"\n')
    monkeypatch.chdir(tmp_path)
    assert Course.locate().solutions == course.solutions
    (tmp_path / "dlgrade.toml").write_text('solutions = "elsewhere"\n')
    result = CliRunner().invoke(main, ["release", "--out", str(tmp_path / "out")])
    assert result.exit_code == 1 and str(tmp_path / "elsewhere") in result.output


# ---------------------------------------------------------------- dlgrade grade / check

import json  # noqa: E402

import jsonschema  # noqa: E402

from autograder.judge.schemas import GRADESCOPE, NATIVE  # noqa: E402
from conftest import REPOSITORY  # noqa: E402


def _losses_submission(tmp_path, extra=""):
    folder = tmp_path / "student"
    folder.mkdir()
    source = (REPOSITORY / "solutions" / "losses" / "losses.py").read_text() + extra
    (folder / "losses.py").write_text(source)
    return folder


def test_grade_writes_native_json_and_a_table_and_exits_0_whatever_the_score(tmp_path):
    folder = _losses_submission(tmp_path, "\ndef mse_loss(y_hat, y):\n    return 1.0\n")
    out = tmp_path / "result.json"
    result = CliRunner().invoke(main, ["grade", str(folder), "-a", "losses", "--seed", "7", "--json", str(out)])
    assert result.exit_code == 0, result.output
    document = json.loads(out.read_text())
    jsonschema.validate(document, NATIVE)
    assert document["seed"] == 7 and document["status"] == "graded"
    assert 0 < document["score"] < document["max_score"] == 100
    assert "losses:" in result.output and "mse_loss" in result.output and "total:" in result.output


def test_grade_in_gradescope_format_validates(tmp_path):
    folder = _losses_submission(tmp_path)
    result = CliRunner().invoke(main, ["grade", str(folder), "-a", "losses", "--format", "gradescope", "--json", "-"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.output)
    jsonschema.validate(document, GRADESCOPE)
    assert document["score"] == 100


def test_grade_of_a_broken_file_is_a_verdict_not_a_crash(tmp_path):
    folder = tmp_path / "student"
    folder.mkdir()
    (folder / "losses.py").write_text("def softmax(:\n")
    result = CliRunner().invoke(main, ["grade", str(folder), "-a", "losses"])
    assert result.exit_code == 0
    assert "NOT GRADABLE" in result.output and "SyntaxError" in result.output


def test_grade_fails_with_one_line_when_the_tool_cannot_run(tmp_path):
    result = CliRunner().invoke(main, ["grade", str(tmp_path / "missing")])
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [f"Error: {tmp_path / 'missing'} does not exist"]
    (tmp_path / "notes.txt").write_text("x")
    result = CliRunner().invoke(main, ["grade", str(tmp_path / "notes.txt")])
    assert result.exit_code == 1 and "not an assignment file" in result.output


def test_grade_on_cuda_without_a_gpu_says_so(tmp_path):
    import torch

    if torch.cuda.is_available():
        import pytest

        pytest.skip("this machine has a GPU")
    result = CliRunner().invoke(main, ["grade", str(_losses_submission(tmp_path)), "--device", "cuda"])
    assert result.exit_code == 1 and "CUDA" in result.output


def test_grade_takes_the_course_seed_from_dlgrade_toml(tmp_path, monkeypatch):
    folder = _losses_submission(tmp_path)
    (tmp_path / "dlgrade.toml").write_text(f'solutions = "{REPOSITORY / "solutions"}"\nseed = 4242\n')
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DLGRADE_SEED", raising=False)
    result = CliRunner().invoke(main, ["grade", str(folder), "-a", "losses", "--json", "-"])
    assert json.loads(result.output)["seed"] == 4242


def test_check_is_the_students_self_check_on_the_release(tmp_path, monkeypatch):
    release = tmp_path / "release"
    assert CliRunner().invoke(main, ["release", "losses", "--out", str(release)]).exit_code == 0
    monkeypatch.chdir(release / "losses")
    stub = CliRunner().invoke(main, ["check", "losses"])
    assert stub.exit_code == 0, stub.output
    assert "0 of 7 public checks pass" in stub.output and "Next: implement softmax" in stub.output
    answer = (REPOSITORY / "solutions" / "losses" / "losses.py").read_text()
    (release / "losses" / "losses.py").write_text(answer + "\ndef mse_loss(y_hat, y):\n    return 0.5 * float(((y_hat - y) ** 2).mean())\n")
    buggy = CliRunner().invoke(main, ["check", "losses"])
    assert "6 of 7 public checks pass" in buggy.output
    assert "likely mistake: MSE with the 1/2" in buggy.output and "expected:" in buggy.output


def test_check_without_a_submission_explains_where_to_run_it(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["check", "mlp"])
    assert result.exit_code == 1 and "no mlp.py or mlp.ipynb" in result.output
