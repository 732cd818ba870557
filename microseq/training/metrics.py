"""The metrics file of a run: one JSON object per line, appended as training goes.

Records carry a ``kind``:

- ``"start"``: the task, its headline metric and its baselines (written when a run starts or resumes);
- ``"train"``: ``step``, ``loss``, ``grad_norm`` (before clipping), ``lr``, ``tokens``, ``tokens_per_s``,
  ``time`` (seconds since this process started training);
- ``"eval"``: ``step``, ``split``, ``loss`` and the task's metrics (``bpc``, ``perplexity``, ``accuracy``,
  ``mse``, ...).

Lines are flushed as they are written, so the file can be followed (``tail -f``) or plotted mid-run. When a
run resumes from a checkpoint at step s, records after s (written by the interrupted process after its last
checkpoint) are dropped first, so the file reads as one uninterrupted run.
"""

from __future__ import annotations

import json
import math
import os

__all__ = ["MetricsLog", "MetricsError", "read_metrics"]


class MetricsError(ValueError):
    """A metrics file that cannot be read; the message names it."""


def _clean(value):
    """Plain JSON values: NumPy scalars become Python numbers, non-finite floats become strings."""
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return value


class MetricsLog:
    """Appends records to ``path`` (created if missing).

    Parameters
    ----------
    path : str
    resume_step : int, optional
        Drop existing training and evaluation records with a step beyond this one before appending.
    """

    def __init__(self, path: str, resume_step: int | None = None) -> None:
        self.path = path
        if resume_step is not None and os.path.exists(path):
            kept = [r for r in read_metrics(path) if r.get("step", 0) <= resume_step]
            tmp = path + ".tmp"
            with open(tmp, "w", encoding="utf-8") as f:
                f.writelines(json.dumps(r) + "\n" for r in kept)
            os.replace(tmp, path)
        self._file = open(path, "a", encoding="utf-8")

    def log(self, kind: str, **fields) -> dict:
        record = {"kind": kind, **{k: _clean(v) for k, v in fields.items()}}
        self._file.write(json.dumps(record) + "\n")
        self._file.flush()
        return record

    def close(self) -> None:
        self._file.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def read_metrics(path: str) -> list[dict]:
    """All records of a metrics file (a final line cut short by a crash is skipped).

    Raises
    ------
    MetricsError
        The file is not UTF-8 text (so not one this module wrote), or cannot be read.
    """
    records = []
    try:
        with open(path, encoding="utf-8") as f:
            for line in f:
                try:
                    records.append(json.loads(line))
                except json.JSONDecodeError:
                    continue
    except UnicodeDecodeError as error:
        raise MetricsError(f"{path} is not a metrics file: not UTF-8 text (invalid byte "
                           f"0x{error.object[error.start]:02x} at position {error.start})") from None
    except IsADirectoryError:
        raise MetricsError(f"{path} is a directory, not a metrics file") from None
    return records
