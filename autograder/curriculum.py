"""The public contract of the course: the assignments and the names each one must define.

This is what students are asked to write, so it is public; the answers are not here.
"""

from __future__ import annotations

# In teaching order.
ASSIGNMENTS: tuple[str, ...] = (
    "perceptron",
    "mlp",
    "initializers",
    "optimizers",
    "dropout",
    "losses",
    "activations",
)

CONTRACT: dict[str, tuple[str, ...]] = {
    "perceptron": ("step", "perceptron_fit", "perceptron_predict"),
    "mlp": ("sigmoid", "sigmoid_backward", "forward", "loss", "backward", "train"),
    "initializers": (
        "lecun_normal",
        "lecun_uniform",
        "xavier_normal",
        "xavier_uniform",
        "he_normal",
        "he_uniform",
    ),
    "optimizers": ("SGD", "Adagrad", "RMSProp", "Adam", "minibatches"),
    "dropout": ("dropout_forward", "dropout_backward", "l2_penalty", "l2_grad", "l1_penalty", "l1_grad"),
    "losses": (
        "softmax",
        "log_softmax",
        "cross_entropy",
        "cross_entropy_grad",
        "binary_cross_entropy",
        "binary_cross_entropy_with_logits",
        "mse_loss",
    ),
    "activations": (
        "tanh",
        "tanh_backward",
        "relu",
        "relu_backward",
        "leaky_relu",
        "leaky_relu_backward",
    ),
}


def check_assignment_names(names) -> tuple[str, ...]:
    """Return ``names`` as a tuple (all assignments when empty); raise ValueError on an unknown one."""
    names = tuple(names) or ASSIGNMENTS
    unknown = [n for n in names if n not in ASSIGNMENTS]
    if unknown:
        raise ValueError(
            f"unknown assignment {', '.join(map(repr, unknown))}; the course has: {', '.join(ASSIGNMENTS)}"
        )
    return names
