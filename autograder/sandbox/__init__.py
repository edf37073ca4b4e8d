"""The process boundary: student code runs in a child process started here, never in the judge."""
