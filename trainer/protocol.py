"""The trainer's only channel to its caller: JSON lines on stdout, one object a line, flushed.

Everything else (library warnings, progress bars, even C-level prints) is pushed to stderr by
`claim_stdout()`, which keeps a private handle on the original stdout for the protocol.
"""

from __future__ import annotations

import json
import math
import os
import sys
from typing import Any, TextIO


class UserError(Exception):
    """An error whose message tells the user what is wrong and what to do; reported without a traceback."""


class Emitter:
    def __init__(self, stream: TextIO | None, enabled: bool = True):
        self._stream = stream
        self.enabled = enabled and stream is not None

    def emit(self, event: str, **fields: Any) -> None:
        if not self.enabled:
            return
        obj = {"event": event}
        obj.update({k: _jsonable(v) for k, v in fields.items()})
        self._stream.write(json.dumps(obj, ensure_ascii=False, allow_nan=False) + "\n")
        self._stream.flush()

    def error(self, message: str) -> None:
        self.emit("error", message=one_line(message))


def _jsonable(v: Any) -> Any:
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if isinstance(v, dict):
        return {k: _jsonable(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_jsonable(x) for x in v]
    if hasattr(v, "item") and callable(v.item):  # numpy / torch scalars
        return _jsonable(v.item())
    return v


def one_line(message: str, limit: int = 2000) -> str:
    text = " ".join(str(message).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def claim_stdout() -> TextIO:
    """Return a private stream on the original stdout and point fd 1 (and sys.stdout) at stderr."""
    sys.stdout.flush()
    fd = os.dup(1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    return os.fdopen(fd, "w", encoding="utf-8", buffering=1)


def quiet_env() -> None:
    """Before any library import: no network, no progress bars, no tokenizer thread warnings."""
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TRANSFORMERS_NO_ADVISORY_WARNINGS", "1")


def quiet_transformers() -> None:
    """transformers' own logging at error level (it writes to stderr; stdout is the protocol's)."""
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
