"""The course report: one static HTML file of plots and tables over a batch's results.

    from autograder.report import build_report, read_result_folder
    html = build_report(read_result_folder(Path("out")))   # or Gradebook.open(url).result_documents()
"""

from autograder.report.page import build_report, similarity_link
from autograder.report.sources import ReportSourceError, read_result_folder

__all__ = ["build_report", "similarity_link", "read_result_folder", "ReportSourceError"]
