"""Grading a whole course: intake of the downloads, a pool of warm workers (or Dask), the run."""
