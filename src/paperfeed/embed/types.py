"""What every embedder is: the `Embedder` protocol and its progress callback.

Below both backends (model.py's PyTorch one, onnx_backend.py's), so each can name
them without importing the other.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

import numpy as np
import numpy.typing as npt

ProgressCallback = Callable[[int], None]


class Embedder(Protocol):
    """Turns texts into L2-normalised float32 vectors of `dimension` columns."""

    model_id: str
    dimension: int

    def encode(
        self, texts: Sequence[str], *, progress: ProgressCallback | None = None
    ) -> npt.NDArray[np.float32]: ...
