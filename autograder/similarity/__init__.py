"""``dlgrade similarity``: which students' code is far more alike than the cohort's.

    extract   what a student wrote, cut into top-level functions and classes; the released stub
    compare   copydetect's fingerprints (the stub removed as boilerplate) and two students compared
    ranking   every pair of a cohort ranked, and flagged relative to the cohort (the rule is there)
    collect   a submissions folder read with grade-batch's intake, or the files the gradebook keeps
    outputs   the terminal table, similarity.csv and similarity.html

It reads submissions (or the gradebook's) and never writes a grade.
"""

from autograder.similarity.collect import GradebookView, analyse, analyse_graded
from autograder.similarity.outputs import CSV_NAME, HTML_NAME, terminal_table, write_outputs
from autograder.similarity.ranking import Cohort, PairStatus, flag_rule, rank_cohort

__all__ = ["CSV_NAME", "HTML_NAME", "Cohort", "GradebookView", "PairStatus", "analyse", "analyse_graded", "flag_rule",
           "rank_cohort", "terminal_table", "write_outputs"]
