"""Gradescope: the autograder zip dlgrade builds, what runs in Gradescope's container, and a local
dry run of it.

Gradescope unpacks the zip into ``/autograder/source`` and runs ``setup.sh`` there once, as root,
when it builds the assignment's image (Ubuntu). For each submission it puts the student's files
in ``/autograder/submission/``, writes ``/autograder/submission_metadata.json``, runs
``/autograder/run_autograder`` (its copy of the zip's) and reads ``/autograder/results/results.json``.

- :mod:`.package`: ``dlgrade gradescope build``: the zip (``setup.sh``, ``run_autograder``, the
  engine's source, the hidden folders of the chosen assignments and the course's ``course.toml``,
  and ``dlgrade-autograder.json``: the assignments, the seed, whether the sandbox is off);
- :mod:`.metadata`: ``submission_metadata.json`` read into a typed, bounded record;
- :mod:`.run`: what ``run_autograder`` runs: find the files, grade, apply the late policy, write
  results.json; a tool failure writes a results.json that says so and exits 1;
- :mod:`.dryrun`: ``dlgrade gradescope test``: the zip unpacked into a ``/autograder``-shaped
  folder and its ``run_autograder`` run for real, its results.json validated and summarized.
"""

AUTOGRADER_ROOT_ENV = "AUTOGRADER_ROOT"  # where run_autograder finds /autograder (a dry run: a temporary folder)
PYTHON_ENV = "DLGRADE_PYTHON"  # the interpreter run_autograder uses (default: the one setup.sh made)
CONFIG = "dlgrade-autograder.json"  # in the zip: what the build chose
SOLUTIONS = "solutions"  # in the zip: the hidden course, the chosen assignments only
ENGINE = "engine"  # in the zip: dlgrade's source, installed by setup.sh
TORCH_PIN = "2.13.0"  # the CPU wheel setup.sh installs, as CI does
