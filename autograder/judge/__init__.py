"""The judge: runs checks against a submission through the sandbox and decides verdicts.

Everything here runs in the trusted process. Student code only ever runs in the child started
by :mod:`autograder.sandbox`; what comes back is plain data (:mod:`autograder.wire`).
"""
