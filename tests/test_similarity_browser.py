"""The similarity page in a real browser: headless Chromium loads it without a script error or a
policy violation, with hostile names and code in it (the probe of test_report_browser.py).
Skips, with the reason, where no Chromium is installed (CI installs Debian's ``chromium``)."""

from __future__ import annotations

import pytest

from autograder.similarity.outputs import html_page
from autograder.similarity.ranking import rank_cohort
from similarity_cohort import Student, cohort, stub, student_code
from test_report_browser import BROWSER, render, with_probe

pytestmark = pytest.mark.skipif(
    BROWSER is None, reason="no headless Chromium on this machine (CI installs it: apt-get install -y chromium)")

INJECTED = "<script>window.__problems.push('injected')</script>"


def test_the_similarity_page_loads_without_errors(tmp_path):
    students = cohort()
    codes = []
    for s in students:
        source = s.source
        if s.key in ("copy0", "honest02"):  # a flagged pair whose code tries to break out of its <pre>
            source = source.replace("import math", "import math\n\n\ndef evil():\n    parts = ['</pre>" + INJECTED
                                    + "']\n    for k in range(10):\n        parts.append(str(k * k) + '</pre>')\n"
                                    "    return ''.join(parts)\n")
        codes.append(student_code(Student(s.key, source, s.kind), label=INJECTED if s.key == "copy1" else None))
    ranked = rank_cohort("synthetic", codes, stub())
    assert len(ranked.flagged) == 3
    page = tmp_path / "similarity.html"
    page.write_text(with_probe(html_page([ranked])), encoding="utf-8")
    record = render(page, tmp_path / "profile")
    assert record["problems"] == []
    assert record["title"] == "dlgrade similarity"
    assert record["sections"] == ["assignment-1"]
