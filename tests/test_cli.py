"""The `dlgrade` command line: installed, helpful, and clear when it cannot run."""

import shutil
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from autograder.curriculum import ASSIGNMENTS
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
    assert sorted(p.name for p in (tmp_path / "dropout").iterdir()) == ["dropout.ipynb", "dropout.py"]
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
    broken = tmp_path / "solutions" / "perceptron"
    broken.mkdir(parents=True)
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
