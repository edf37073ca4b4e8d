"""The solution stripper: nbgrader's markers in, a valid stub out, clear errors on bad markers."""

import pytest

from autograder.markers import MarkerError, solution_regions, strip_solutions

SOURCE = '''\
def f(x):
    """Doc stays."""
    ### BEGIN SOLUTION
    y = x + 1
    return y
    ### END SOLUTION


class C:
    def step(self):
        ### BEGIN SOLUTION
        return 2
        ### END SOLUTION
'''


def test_regions_are_replaced_at_their_indentation():
    stub = strip_solutions(SOURCE)
    assert "y = x + 1" not in stub and "return 2" not in stub
    assert '    """Doc stays."""\n    # YOUR CODE HERE\n    raise NotImplementedError\n' in stub
    assert "        # YOUR CODE HERE\n        raise NotImplementedError\n" in stub
    assert "### BEGIN SOLUTION" not in stub and "### END SOLUTION" not in stub


def test_stub_runs_and_raises():
    namespace = {}
    exec(compile(strip_solutions(SOURCE), "stub", "exec"), namespace)
    with pytest.raises(NotImplementedError):
        namespace["f"](1)
    with pytest.raises(NotImplementedError):
        namespace["C"]().step()


def test_source_without_markers_is_unchanged():
    assert strip_solutions("x = 1\n") == "x = 1\n"


def test_regions_are_reported_with_line_numbers():
    assert solution_regions(SOURCE) == [(2, 5, "    "), (10, 12, "        ")]


@pytest.mark.parametrize("bad, message", [
    ("    ### BEGIN SOLUTION\n    x = 1\n", "never closed"),
    ("x = 1\n### END SOLUTION\n", "without a BEGIN"),
    ("### BEGIN SOLUTION\n### BEGIN SOLUTION\n### END SOLUTION\n", "inside the region"),
    ("def f():\n    ### BEGIN SOLUTION\n    pass\n  ### END SOLUTION\n", "not indented like"),
    ("x = 1  ### BEGIN SOLUTION\n", "alone on its line"),
])
def test_malformed_markers_are_named_with_file_and_line(bad, message):
    with pytest.raises(MarkerError, match=message) as caught:
        strip_solutions(bad, filename="lesson.py")
    assert str(caught.value).startswith("lesson.py:")


def test_stub_that_would_not_parse_is_refused():
    # The region swallows the only statement of an `if` and the stub's raise lands at the wrong depth.
    bad = "if True:\n### BEGIN SOLUTION\n    x = 1\n### END SOLUTION\n"
    with pytest.raises(MarkerError, match="not valid Python"):
        strip_solutions(bad)
