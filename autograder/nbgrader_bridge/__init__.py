"""dlgrade inside nbgrader: source notebooks, releases, in-kernel checks and a secure autograde.

- :mod:`.source`: the nbgrader *source* notebook of an assignment, generated from
  ``solutions/<a>/<a>.py`` (answer cells, test cells calling dlgrade's checks, points = rubric);
- :mod:`.course_dir`: prepares an nbgrader course directory and runs ``generate_assignment``
  through ``NbGraderAPI`` (what ``dlgrade release`` does);
- :mod:`.kernel`: what a test cell runs inside a Jupyter kernel (students' self-checks, plain nbgrader);
- :mod:`.autograde`: :class:`~.autograde.DlgradeAutograde`, the nbgrader preprocessor that replaces
  in-kernel execution with dlgrade's sandboxed judge (see :data:`NBGRADER_CONFIG`);
- :mod:`.validate`: ``dlgrade validate``, the instructor's pre-release gate.

Only :mod:`.autograde` and :mod:`.course_dir` import nbgrader.
"""

PREPROCESSOR = "autograder.nbgrader_bridge.autograde.DlgradeAutograde"

# The nbgrader_config.py lines that switch a course's autograde to dlgrade's judge.
NBGRADER_CONFIG = f'''\
# dlgrade: test cells are graded by dlgrade's sandboxed judge, never run in the student's kernel.
c.Autograde.autograde_preprocessors = [
    "{PREPROCESSOR}",                       # replaces nbgrader.preprocessors.Execute
    "nbgrader.preprocessors.LimitOutput",
    "nbgrader.preprocessors.SaveAutoGrades",
    "nbgrader.preprocessors.AssignLatePenalties",
    "nbgrader.preprocessors.CheckCellMetadata",
]
# c.DlgradeAutograde.seed = 1234              # the course secret (default: seed in dlgrade.toml, $DLGRADE_SEED)
# c.DlgradeAutograde.solutions = "/srv/course/solutions"   # default: $DLGRADE_SOLUTIONS, dlgrade.toml
'''
