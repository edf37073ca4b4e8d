"""Small helpers for the torch references: one device rule and one conversion rule for all."""

from __future__ import annotations

import numpy as np
import torch

from autograder.errors import DlgradeError

DEFAULT_DTYPE = torch.float64


class DeviceUnavailable(DlgradeError, RuntimeError):
    """The device asked for is not there (never a student's grade: the run stops)."""


def resolve_device(device: str | torch.device | None = None) -> torch.device:
    """``None`` means CPU. Asking for CUDA on a machine without it is an error, not a silent fallback."""
    resolved = torch.device(device if device is not None else "cpu")
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise DeviceUnavailable("device 'cuda' was requested but torch sees no CUDA GPU on this machine: "
                                "grade with --device cpu (the same scores), or run on a machine with a GPU")
    return resolved


def as_tensor(x, device=None, dtype: torch.dtype = DEFAULT_DTYPE) -> torch.Tensor:
    """Any array-like (NumPy array, list, scalar or tensor) as a new ``dtype`` tensor on ``device``.

    The result never shares memory with ``x``, so a reference cannot modify its caller's input.
    """
    if isinstance(x, torch.Tensor):
        return x.detach().to(device=resolve_device(device), dtype=dtype, copy=True)
    return torch.tensor(np.asarray(x), dtype=dtype, device=resolve_device(device))


def as_index_tensor(y, device=None) -> torch.Tensor:
    """Integer class labels as an int64 tensor on ``device``."""
    if isinstance(y, torch.Tensor):
        return y.detach().to(device=resolve_device(device), dtype=torch.int64, copy=True)
    return torch.tensor(np.asarray(y), dtype=torch.int64, device=resolve_device(device))


def to_numpy(t) -> np.ndarray:
    """A tensor (on any device) as a NumPy array; other values pass through np.asarray."""
    if isinstance(t, torch.Tensor):
        return t.detach().cpu().numpy()
    return np.asarray(t)
