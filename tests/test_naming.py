"""A known mistake is named only when the submission matches it on two discriminating inputs."""

from autograder.judge.checks import Sighting
from autograder.judge.grader import name_mistakes
from autograder.judge.mutants import Mutant
from autograder.judge.results import TestResult as Result

SUMMED = Mutant("losses.mse.summed", "losses.mse", "summed instead of averaged", "divide by N")
SIGN = Mutant("losses.mse.sign", "losses.mse", "wrong sign", "check the sign")


class Check:
    def __init__(self, name):
        self.name = name


def failed(name, *sightings):
    return Result(name, "losses", "losses.mse", 0.0, 1.0, "failed", "differs", sightings=tuple(sightings))


def test_one_coincidental_match_is_not_named_when_the_second_draw_disagrees():
    results = [failed("a", Sighting(SUMMED, True, 1))]
    asked = []
    name_mistakes(results, [Check("a")], lambda check: asked.append(check.name) or (Sighting(SUMMED, False, 2),))
    assert asked == ["a"] and results[0].mistake is None


def test_a_match_confirmed_by_the_second_draw_is_named():
    results = [failed("a", Sighting(SUMMED, True, 1))]
    name_mistakes(results, [Check("a")], lambda check: (Sighting(SUMMED, True, 2),))
    assert (results[0].mistake, results[0].mistake_title, results[0].hint) == (SUMMED.id, SUMMED.title, SUMMED.hint)


def test_the_same_input_seen_twice_counts_once():
    results = [failed("a", Sighting(SUMMED, True, 1))]
    name_mistakes(results, [Check("a")], lambda check: (Sighting(SUMMED, True, 1),))
    assert results[0].mistake is None


def test_two_checks_agreeing_need_no_second_draw_and_name_on_both():
    results = [failed("a", Sighting(SUMMED, True, 1), Sighting(SIGN, False, 1)),
               failed("b", Sighting(SUMMED, True, 2), Sighting(SIGN, False, 2))]
    name_mistakes(results, [Check("a"), Check("b")], lambda check: (_ for _ in ()).throw(AssertionError("asked")))
    assert [r.mistake for r in results] == [SUMMED.id, SUMMED.id]
    assert all(r.sightings == () for r in results)  # never exported


def test_a_mistake_contradicted_more_often_than_matched_is_not_named():
    results = [failed("a", Sighting(SIGN, True, 1)), failed("b", Sighting(SIGN, True, 2)),
               failed("c", Sighting(SIGN, False, 3)), failed("d", Sighting(SIGN, False, 4)),
               failed("e", Sighting(SIGN, False, 5))]
    name_mistakes(results, [Check(n) for n in "abcde"], lambda check: ())
    assert all(r.mistake is None for r in results)
