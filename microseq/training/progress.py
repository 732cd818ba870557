"""Showing training progress: a tqdm bar on a terminal, plain lines otherwise.

The bar shows the step, the smoothed training loss (an exponential moving average, weight 0.9), the speed in tokens per second and the time left (from the
step budget or the time budget, whichever ends first). When the output is not a terminal (a log file, CI),
the same facts are printed as one line every ``log_interval`` steps. tqdm is imported only when a bar is
actually drawn.
"""

from __future__ import annotations

import sys
import time

__all__ = ["Progress", "format_duration", "format_count"]


def format_duration(seconds: float) -> str:
    """``75.2`` -> ``"1:15"``, ``3725`` -> ``"1:02:05"``."""
    seconds = max(0, int(round(seconds)))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def format_count(n: float) -> str:
    """``12345`` -> ``"12.3k"``."""
    for unit, size in (("M", 1e6), ("k", 1e3)):
        if abs(n) >= size:
            return f"{n / size:.1f}{unit}"
    return f"{n:.0f}"


class Progress:
    """Progress of a training run from ``start_step`` to ``total_steps`` (or until ``time_budget`` seconds).

    Parameters
    ----------
    total_steps : int
    start_step : int
        Where a resumed run starts.
    time_budget : float, optional
        Seconds this process may train; the ETA is the earlier of the two limits.
    mode : "auto", "bar", "lines" or "off"
        "auto" draws a bar on a terminal and prints lines otherwise.
    log_interval : int
        Steps between lines in "lines" mode.
    stream : file
        Where progress goes (stderr by default; results are printed to stdout by the caller).
    """

    def __init__(self, total_steps: int, start_step: int = 0, time_budget: float | None = None,
                 mode: str = "auto", log_interval: int = 50, stream=None) -> None:
        if mode not in ("auto", "bar", "lines", "off"):
            raise ValueError(f"Progress: mode must be auto, bar, lines or off, got {mode!r}")
        self.stream = stream or sys.stderr
        if mode == "auto":
            mode = "bar" if getattr(self.stream, "isatty", lambda: False)() else "lines"
        self.mode, self.total, self.start_step = mode, total_steps, start_step
        self.time_budget, self.log_interval = time_budget, max(1, log_interval)
        self.started = time.perf_counter()
        self.smoothed_loss = None
        self._bar = None
        if mode == "bar":
            from tqdm.auto import tqdm

            self._bar = tqdm(total=total_steps, initial=start_step, file=self.stream, unit="step",
                             dynamic_ncols=True, bar_format="{l_bar}{bar}| {n_fmt}/{total_fmt} [{elapsed}{postfix}]")

    def eta(self, step: int) -> float:
        """Seconds left: steps left at the average speed so far, capped by the time budget."""
        elapsed = time.perf_counter() - self.started
        done = step - self.start_step
        left = (self.total - step) * elapsed / done if done > 0 else float("inf")
        if self.time_budget is not None:
            left = min(left, max(0.0, self.time_budget - elapsed))
        return left

    def update(self, step: int, loss: float, tokens_per_s: float) -> None:
        """Report that ``step`` finished with training loss ``loss``."""
        self.smoothed_loss = loss if self.smoothed_loss is None else 0.9 * self.smoothed_loss + 0.1 * loss
        eta = self.eta(step)
        summary = (f"smoothed loss {self.smoothed_loss:.4f}, {format_count(tokens_per_s)} tok/s, "
                   f"ETA {format_duration(eta) if eta != float('inf') else '?'}")
        if self._bar is not None:
            self._bar.update(step - self._bar.n)
            self._bar.set_postfix_str(summary, refresh=False)
        elif self.mode == "lines" and (step % self.log_interval == 0 or step == self.total):
            print(f"step {step}/{self.total}: {summary}", file=self.stream, flush=True)

    def write(self, message: str, file=None) -> None:
        """Print a message (stdout by default) without breaking the bar."""
        file = file or sys.stdout
        if self._bar is not None:
            self._bar.write(message, file=file)
        else:
            print(message, file=file, flush=True)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None
