"""JSON Schemas of the result files, so that exports can be validated (jsonschema)."""

from autograder.judge.results import GRADED, MISSING, NOT_GRADABLE, OUTCOMES

_VISIBILITY = {"enum": ["hidden", "after_due_date", "after_published", "visible"]}
_FORMAT = {"enum": ["text", "html", "simple_format", "md", "ansi"]}

GRADESCOPE = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "Gradescope autograder results.json",
    "type": "object",
    "properties": {
        "score": {"type": "number"},
        "execution_time": {"type": "number", "minimum": 0},
        "output": {"type": "string"},
        "output_format": _FORMAT,
        "test_output_format": _FORMAT,
        "test_name_format": _FORMAT,
        "visibility": _VISIBILITY,
        "stdout_visibility": _VISIBILITY,
        "extra_data": {"type": "object"},
        "tests": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "score": {"type": "number"},
                    "max_score": {"type": "number"},
                    "status": {"enum": ["passed", "failed"]},
                    "name": {"type": "string"},
                    "name_format": _FORMAT,
                    "number": {"type": "string"},
                    "output": {"type": "string"},
                    "output_format": _FORMAT,
                    "tags": {"type": "array", "items": {"type": "string"}},
                    "visibility": _VISIBILITY,
                    "extra_data": {"type": "object"},
                },
                "required": ["max_score", "name", "status"],
                "additionalProperties": False,
            },
        },
        "leaderboard": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"name": {"type": "string"}, "value": {}, "order": {"enum": ["asc", "desc"]}},
                "required": ["name", "value"],
            },
        },
    },
    "anyOf": [{"required": ["score"]}, {"required": ["tests"]}],
    "additionalProperties": False,
}

_NUMBERS = {"type": "array", "items": {"type": "number"}, "maxItems": 1000}
_CURVES = {
    "type": ["object", "null"],
    "properties": {
        "series": {"type": "object", "additionalProperties": _NUMBERS},
        "band": {"type": "object", "additionalProperties": {
            "type": "object", "properties": {"low": _NUMBERS, "high": _NUMBERS}, "required": ["low", "high"]}},
    },
    "required": ["series"],
}

_TEST = {
    "type": "object",
    "properties": {
        "name": {"type": "string"},
        "assignment": {"type": "string"},
        "exercise": {"type": "string", "pattern": r"^[a-z_]+\.[A-Za-z_]+$"},
        "score": {"type": "number", "minimum": 0},
        "max_score": {"type": "number", "minimum": 0},
        "outcome": {"enum": list(OUTCOMES)},
        "message": {"type": "string"},
        "mistake": {"type": ["string", "null"]},
        "visibility": {"enum": ["public", "hidden"]},
        "curves": _CURVES,
    },
    "required": ["name", "assignment", "exercise", "score", "max_score", "outcome", "message", "mistake", "visibility"],
}

NATIVE = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "dlgrade result",
    "type": "object",
    "properties": {
        "score": {"type": "number"},
        "max_score": {"type": "number"},
        "status": {"enum": [GRADED, NOT_GRADABLE, MISSING]},
        "reason": {"type": "string"},
        "tests": {"type": "array", "items": _TEST},
        "assignments": {"type": "array"},
        "seed": {"type": "integer"},
    },
    "required": ["score", "max_score", "status", "reason", "tests", "assignments", "seed"],
}
