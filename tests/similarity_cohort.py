"""A synthetic cohort for ``dlgrade similarity``: one assignment of five functions, written here.

Honest students combine five correct styles of each function (loops, vectorized, helpers,
other numpy calls), chosen by a Latin square over Z5: student (p, q) writes style ``(p + f q) mod 5``
of function f, so two honest students share the style of at most one function, as two honest
students in a real course write one function alike now and then. Every local variable is renamed
per student. Buggy students are honest ones with one function written in its first style and broken. Three planted copies take
three honest students' files, rename every variable (helpers too), reverse the order of the
functions and add comments. Stub-only students handed in the release, or it with tiny edits.
Everyone keeps the stub's given ``accuracy`` and ``split`` and writes the same one-line ``sigmoid``.
"""

from __future__ import annotations

import ast
import random
from dataclasses import dataclass

from autograder.similarity.extract import StudentCode, code_units
from autograder.submission import SubmissionCode

FUNCTIONS = ("standardize", "softmax", "cross_entropy", "perceptron_fit", "confusion_matrix")

DOCS = {
    "standardize": "Each column of ``X`` (n, d) centred and scaled to unit variance; a constant column is only centred.",
    "softmax": "The softmax of each row of ``Z`` (n, k), computed stably.",
    "cross_entropy": "The mean cross-entropy of the probabilities ``P`` (n, k) against the integer labels ``y`` (n,).",
    "perceptron_fit": "Train a perceptron on ``X`` (n, d) and 0/1 labels ``y``: returns the weights (d,) and the bias.",
    "confusion_matrix": "The (k, k) confusion matrix: row = true class, column = predicted class.",
}
SIGNATURES = {
    "standardize": "X", "softmax": "Z", "cross_entropy": "P, y", "perceptron_fit": "X, y, epochs=20, lr=0.1",
    "confusion_matrix": "y_true, y_pred, k",
}

HEADER = "import math\n\nimport numpy as np\n"

GIVEN = '''def accuracy(y_true, y_pred):
    """The share of predictions that equal the labels (given: do not change)."""
    y_true = np.asarray(y_true)
    y_pred = np.asarray(y_pred)
    if y_true.shape != y_pred.shape:
        raise ValueError("the labels and the predictions differ in shape")
    return float(np.mean(y_true == y_pred))


def split(X, y, fraction=0.25, seed=0):
    """A shuffled train/test split (given: do not change)."""
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(X))
    cut = int(round(len(X) * (1 - fraction)))
    train = order[:cut]
    test = order[cut:]
    return (X[train], X[test], y[train], y[test])
'''

SIGMOID_DOC = '''def sigmoid(z):
    """The logistic function, elementwise."""
'''
SIGMOID = SIGMOID_DOC + "    return 1.0 / (1.0 + np.exp(-z))\n"


def _signature(name: str) -> str:
    return f'def {name}({SIGNATURES[name]}):\n    """{DOCS[name]}"""\n'


def stub() -> str:
    """The release: docstrings, signatures, the given accuracy, and a stub for each answer."""
    todo = "    # YOUR CODE HERE\n    raise NotImplementedError\n"
    parts = [HEADER, GIVEN, SIGMOID_DOC + todo] + [_signature(name) + todo for name in FUNCTIONS]
    return "\n\n".join(parts)


# Five correct styles per function: (helper definitions, body). The body follows the stub's docstring.
STYLES: dict[str, list[tuple[str, str]]] = {
    "standardize": [
        ("", """    X = np.asarray(X, dtype=float)
    mean = X.mean(axis=0)
    std = X.std(axis=0)
    std[std == 0] = 1.0
    return (X - mean) / std
"""),
        ("", """    rows, cols = len(X), len(X[0])
    out = np.zeros((rows, cols))
    for j in range(cols):
        column = [X[i][j] for i in range(rows)]
        mu = sum(column) / rows
        var = sum((v - mu) ** 2 for v in column) / rows
        sd = var ** 0.5 if var > 0 else 1.0
        for i in range(rows):
            out[i, j] = (X[i][j] - mu) / sd
    return out
"""),
        ('''def _column_stats(data):
    centre = np.sum(data, axis=0) / data.shape[0]
    spread = np.sqrt(np.sum((data - centre) ** 2, axis=0) / data.shape[0])
    return centre, np.where(spread > 0, spread, 1.0)
''', """    data = np.array(X, dtype=np.float64)
    centre, spread = _column_stats(data)
    return (data - centre) / spread
"""),
        ("", """    A = np.asarray(X, dtype=float)
    n = A.shape[0]
    ones = np.ones(n)
    mu = ones @ A / n
    centred = A - np.outer(ones, mu)
    sigma = np.sqrt(np.einsum("ij,ij->j", centred, centred) / n)
    sigma = np.maximum(sigma, 1e-12)
    return centred / sigma
"""),
        ("", """    cols = []
    for col in np.asarray(X, dtype=float).T:
        s = col.std()
        cols.append((col - col.mean()) / (s if s else 1.0))
    return np.stack(cols, axis=1)
"""),
    ],
    "softmax": [
        ("", """    Z = np.asarray(Z, dtype=float)
    shifted = Z - Z.max(axis=1, keepdims=True)
    e = np.exp(shifted)
    return e / e.sum(axis=1, keepdims=True)
"""),
        ("", """    result = []
    for row in Z:
        top = max(row)
        exps = [math.exp(v - top) for v in row]
        total = sum(exps)
        result.append([x / total for x in exps])
    return np.array(result)
"""),
        ("", """    Z = np.array(Z, dtype=np.float64)
    m = np.max(Z, axis=-1)[:, None]
    lse = m + np.log(np.sum(np.exp(Z - m), axis=-1))[:, None]
    return np.exp(Z - lse)
"""),
        ('''def _stable_exp(rows):
    return np.exp(rows - np.amax(rows, axis=1).reshape(-1, 1))
''', """    numer = _stable_exp(np.asarray(Z, dtype=float))
    denom = numer.sum(axis=1).reshape(-1, 1)
    return numer / denom
"""),
        ("", """    def one(v):
        w = np.exp(v - np.max(v))
        return w / np.sum(w)
    return np.apply_along_axis(one, 1, np.asarray(Z, dtype=float))
"""),
    ],
    "cross_entropy": [
        ("", """    P = np.clip(np.asarray(P, dtype=float), 1e-12, 1.0)
    picked = P[np.arange(len(y)), y]
    return -np.mean(np.log(picked))
"""),
        ("", """    total = 0.0
    for i, label in enumerate(y):
        p = max(P[i][label], 1e-12)
        total -= math.log(p)
    return total / len(y)
"""),
        ("", """    probs = np.asarray(P, dtype=float)
    onehot = np.zeros_like(probs)
    onehot[np.arange(probs.shape[0]), np.asarray(y)] = 1.0
    return float(-(onehot * np.log(np.maximum(probs, 1e-12))).sum() / probs.shape[0])
"""),
        ("", """    idx = np.asarray(y).reshape(-1, 1)
    chosen = np.take_along_axis(np.asarray(P, dtype=float), idx, axis=1).ravel()
    losses = -np.log(np.clip(chosen, 1e-12, None))
    return losses.sum() / losses.size
"""),
        ("", """    logs = [np.log(max(float(row[k]), 1e-12)) for row, k in zip(P, y)]
    return -sum(logs) / len(logs)
"""),
    ],
    "perceptron_fit": [
        ("", """    X = np.asarray(X, dtype=float)
    w = np.zeros(X.shape[1])
    b = 0.0
    for _ in range(epochs):
        for xi, target in zip(X, y):
            pred = 1 if xi @ w + b > 0 else 0
            update = lr * (target - pred)
            w += update * xi
            b += update
    return w, b
"""),
        ("", """    n, d = len(X), len(X[0])
    weights = [0.0] * d
    bias = 0.0
    epoch = 0
    while epoch < epochs:
        for i in range(n):
            s = bias + sum(weights[j] * X[i][j] for j in range(d))
            err = y[i] - (1 if s > 0 else 0)
            if err != 0:
                for j in range(d):
                    weights[j] += lr * err * X[i][j]
                bias += lr * err
        epoch += 1
    return np.array(weights), bias
"""),
        ("", """    Xa = np.hstack([np.asarray(X, dtype=float), np.ones((len(X), 1))])
    theta = np.zeros(Xa.shape[1])
    for epoch in range(epochs):
        mistakes = 0
        for row, label in zip(Xa, np.asarray(y)):
            delta = label - np.heaviside(row.dot(theta), 0.0)
            theta = theta + lr * delta * row
            mistakes += int(delta != 0)
        if mistakes == 0:
            break
    return theta[:-1], theta[-1]
"""),
        ('''def _step_output(weights, bias, sample):
    return np.where(np.dot(weights, sample) + bias > 0, 1, 0)
''', """    data = np.array(X, dtype=np.float64)
    labels = np.array(y)
    weights, bias = np.zeros(data.shape[1]), 0.0
    for _ in range(epochs):
        for k in range(data.shape[0]):
            diff = labels[k] - _step_output(weights, bias, data[k])
            weights = weights + lr * diff * data[k]
            bias = bias + lr * diff
    return weights, bias
"""),
        ("", """    features = np.asarray(X, dtype=float)
    coef = np.zeros(features.shape[1], dtype=float)
    intercept = 0.0
    history = []
    for epoch in range(epochs):
        wrong = 0
        for idx, sample in enumerate(features):
            guess = float(np.sign(max(sample.dot(coef) + intercept, 0.0)))
            change = lr * (y[idx] - guess)
            if change:
                coef += change * sample
                intercept += change
                wrong += 1
        history.append(wrong)
    return coef, intercept
"""),
    ],
    "confusion_matrix": [
        ("", """    M = np.zeros((k, k), dtype=int)
    for t, p in zip(y_true, y_pred):
        M[t, p] += 1
    return M
"""),
        ("", """    counts = np.zeros((k, k), dtype=np.int64)
    np.add.at(counts, (np.asarray(y_true), np.asarray(y_pred)), 1)
    return counts
"""),
        ("", """    flat = np.asarray(y_true) * k + np.asarray(y_pred)
    return np.bincount(flat, minlength=k * k).reshape(k, k)
"""),
        ("", """    pairs = list(zip(list(y_true), list(y_pred)))
    return np.array([[sum(1 for a, b in pairs if a == i and b == j) for j in range(k)] for i in range(k)])
"""),
        ("", """    truth, guess = np.asarray(y_true), np.asarray(y_pred)
    table = np.empty((k, k), dtype=int)
    for i in range(k):
        for j in range(k):
            table[i, j] = np.count_nonzero((truth == i) & (guess == j))
    return table
"""),
    ],
}

# A bug per function: (style, text in it, replacement).
BUGS = {
    "standardize": (0, "    std[std == 0] = 1.0\n", ""),
    "softmax": (0, "axis=1, keepdims=True)\n    e", "axis=0, keepdims=True)\n    e"),
    "cross_entropy": (0, "return -np.mean", "return np.mean"),
    "perceptron_fit": (0, "b += update", "b -= update"),
    "confusion_matrix": (0, "M[t, p] += 1", "M[p, t] += 1"),
}

_SYLLABLES = ("ka", "lo", "mi", "ru", "te", "vo", "zen", "pa", "qui", "sor", "dax", "bel")


def _fresh_name(rng: random.Random, taken: set[str]) -> str:
    while True:
        name = "".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(2, 3))) + rng.choice(("", "_v", "2", "_"))
        if name not in taken and not name[0].isdigit():
            taken.add(name)
            return name


class _Renamer(ast.NodeTransformer):
    """Rename each function's arguments and assigned names (helpers' names too, with ``helpers``)."""

    def __init__(self, rng: random.Random, helpers: bool):
        self.rng, self.helpers, self.taken = rng, helpers, set()
        self.global_map: dict[str, str] = {}
        self.local: dict[str, str] = {}

    def visit_Module(self, node):
        if self.helpers:
            for item in node.body:
                if isinstance(item, ast.FunctionDef) and item.name.startswith("_"):
                    self.global_map[item.name] = "_" + _fresh_name(self.rng, self.taken)
        for item in node.body:
            if isinstance(item, ast.FunctionDef):
                self.local = {}
                for sub in ast.walk(item):
                    names = []
                    if isinstance(sub, ast.arg):
                        names.append(sub.arg)
                    elif isinstance(sub, ast.Name) and isinstance(sub.ctx, ast.Store):
                        names.append(sub.id)
                    for name in names:
                        if name not in self.local and name != "_":
                            self.local[name] = _fresh_name(self.rng, self.taken)
                if item.name in self.global_map:
                    item.name = self.global_map[item.name]
                self.generic_visit(item)
        return node

    def visit_arg(self, node):
        node.arg = self.local.get(node.arg, node.arg)
        return node

    def visit_Name(self, node):
        node.id = self.local.get(node.id, self.global_map.get(node.id, node.id))
        return node


def renamed(source: str, seed: int, *, helpers: bool = False, reverse: bool = False) -> str:
    """``source`` with its local names (and, with ``helpers``, its helpers' names) renamed, its
    top-level definitions in reverse order with ``reverse``; formatted by ``ast.unparse``."""
    tree = _Renamer(random.Random(seed), helpers).visit(ast.parse(source))
    if reverse:
        defs = [n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))]
        others = [n for n in tree.body if n not in defs]
        tree.body = others + defs[::-1]
    return ast.unparse(tree) + "\n"


def with_comments(source: str) -> str:
    """A comment line before every top-level definition and before every ``return``."""
    out = []
    for line in source.splitlines():
        stripped = line.lstrip()
        indent = line[: len(line) - len(stripped)]
        if stripped.startswith("def ") and not indent:
            out.append("# my own solution, written from the lecture notes")
        elif stripped.startswith("return "):
            out.append(f"{indent}# the result")
        out.append(line)
    return "\n".join(out) + "\n"


def honest_source(p: int, q: int, seed: int, bug: str | None = None) -> str:
    """Student (p, q) of the Latin square: style (p + f q) mod 5 of function f, names renamed."""
    parts = [HEADER, GIVEN, SIGMOID]
    for f, name in enumerate(FUNCTIONS):
        helper, body = STYLES[name][(p + f * q) % 5]
        if bug == name:  # the buggy function in style 0, broken
            style, old, new = BUGS[name]
            helper, body = STYLES[name][style]
            assert old in body, (name, old)
            body = body.replace(old, new)
        if helper:
            parts.append(helper)
        parts.append(_signature(name) + body)
    return renamed("\n\n".join(parts), seed)


@dataclass(frozen=True)
class Student:
    key: str
    source: str
    kind: str  # honest | buggy | copy | stub
    copy_of: str = ""


def cohort() -> list[Student]:
    """30 students: 19 honest, 5 buggy, 3 planted copies (of honest students 2, 9 and 15), 3 stub-only."""
    cells = [(p, q) for q in range(5) for p in range(5)][:24]
    students = []
    for n, (p, q) in enumerate(cells[:19]):
        students.append(Student(f"honest{n:02d}", honest_source(p, q, seed=100 + n), "honest"))
    for n, ((p, q), bug) in enumerate(zip(cells[19:], FUNCTIONS)):
        buggy = honest_source(p, q, seed=200 + n, bug=bug)
        students.append(Student(f"buggy{n}", buggy, "buggy"))
    for n, original in enumerate((2, 9, 15)):
        source = students[original].source
        copy = with_comments(renamed(source, seed=300 + n, helpers=True, reverse=True))
        students.append(Student(f"copy{n}", copy, "copy", copy_of=students[original].key))
    release = stub()
    students.append(Student("stub0", release, "stub"))
    students.append(Student("stub1", release.replace("# YOUR CODE HERE\n    raise NotImplementedError\n",
                                                     "# YOUR CODE HERE\n    return 1.0 / (1.0 + np.exp(-z))\n", 1),
                            "stub"))
    students.append(Student("stub2", release.replace("raise NotImplementedError", "pass  # TODO")
                            + "\n# I ran out of time\n", "stub"))
    return students


def student_code(student: Student, label: str | None = None, assignment: str = "synthetic") -> StudentCode:
    """The units of ``student``'s file, as ``dlgrade similarity`` reads a .py file."""
    code = SubmissionCode(assignment, __import__("pathlib").Path(f"{assignment}.py"), (student.source,))
    return StudentCode(student.key, label or student.key, assignment, code_units(code))
