"""``microseq bench``: how fast are the recurrent layers, against references measured in the same run.

For every cell (RNN, LSTM, GRU), shape (B, T, I, H) and dtype, the benchmark times one training step of a
layer, forward plus backward of ``output.sum()``, in four ways:

- ``fused``: microseq's layer on its fused numba kernels (one tape node for the whole sequence);
- ``composed``: the same layer built from primitive ops, a cell applied T times (the readable path);
- ``numpy``: the fused layer on the plain NumPy reference kernels (``MICROSEQ_BACKEND=numpy``);
- ``torch``: PyTorch's layer on the CPU with the same thread count, when PyTorch is importable.

Each time is the median of several runs after warm-up. Speed is reported as ratios to PyTorch, as GFLOP/s
(the GEMM work of forward and backward: ``6 T B G H (I + H)`` flops), and as a fraction of this machine's
GEMM peak, measured in the same run with one large ``np.dot``. The engine's own overhead (recording and
replaying one small op, and a chain of them, beside PyTorch's for the same) and the kernels' first-call compile
times are reported too.

Two more tables compare microseq with PyTorch beyond one layer (:mod:`microseq.bench_models`): whole training
steps of the CLI's models (``--steps``: the default charlm model, a two-layer LSTM, the dates encoder-decoder),
at the thread count of ``microseq train`` unless ``--threads`` says otherwise, and the layers of the captioning
CNN (``--cnn``).

Run ``microseq bench`` or ``python -m microseq.bench``; ``--json`` prints machine-readable results.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

import numpy as np

SHAPES = {  # name: (B, T, I, H)
    "tiny": (1, 100, 32, 32),
    "small": (32, 64, 64, 128),
    "large": (64, 100, 256, 512),
}
STACKED = {  # name: (B, T, I, H) of a two-layer bidirectional layer, float32 LSTM and GRU, fused and torch only
    "bi-small": (32, 64, 64, 128),
    "bi-large": (64, 100, 256, 256),
}
STACKED_CELLS, STACKED_IMPLEMENTATIONS = ("lstm", "gru"), ("fused", "torch")
GATES = {"rnn": 1, "lstm": 4, "gru": 3}
IMPLEMENTATIONS = ("fused", "composed", "numpy", "torch")


@dataclass
class Row:
    cell: str
    dtype: str
    shape: tuple
    stacked: bool = False  # a two-layer bidirectional layer (the ``STACKED`` rows)
    ms: dict = field(default_factory=dict)  # implementation -> median milliseconds
    gflops: float = 0.0  # of the fused path
    peak_fraction: float = 0.0  # fused GFLOP/s over the measured GEMM peak

    @property
    def speedup_vs_torch(self) -> float | None:
        if "torch" in self.ms and "fused" in self.ms:
            return self.ms["torch"] / self.ms["fused"]
        return None


MIN_RUNS = 2  # timed runs of every implementation, whatever its budget


def median_ms(step: Callable[[], None], repeats: int, warmup: int, budget_s: float = 5.0) -> float:
    """Median wall time of ``step`` in milliseconds, after up to ``warmup`` untimed calls (see
    ``interleaved_median_ms`` for the budget)."""
    return interleaved_median_ms({"step": step}, repeats, warmup, budget_s)["step"]


def interleaved_median_ms(steps: dict, repeats: int, warmup: int, budget_s: float = 5.0) -> dict:
    """Median wall time in milliseconds of each of ``steps`` (name -> callable), timed in turns.

    Each round times every step once, so a change in the machine's load (it is shared) hits all of them
    alike and their ratios stay meaningful. So that the slow reference paths cannot stall a run, a step's
    warm-up stops after one call that took more than a fifth of ``budget_s``, and a step drops out of later
    rounds once its timed runs add up to ``budget_s`` seconds (it keeps at least ``MIN_RUNS``).
    """
    for step in steps.values():
        for _ in range(warmup):
            if _timed(step) > budget_s / 5:
                break
    times = {name: [] for name in steps}
    for _ in range(max(repeats, MIN_RUNS)):
        for name, step in steps.items():
            if len(times[name]) >= MIN_RUNS and sum(times[name]) > budget_s:
                continue
            times[name].append(_timed(step))
    return {name: 1e3 * statistics.median(t) for name, t in times.items()}


def gemm_peak_gflops(dtype, n: int = 1024, repeats: int = 10) -> float:
    """This machine's matrix-multiply speed in GFLOP/s: the best of a few ``(n, n) @ (n, n)`` products.

    The best, not the median: the peak is what the machine can do, and on a shared machine every slower
    run is someone else's load. ``main`` measures it before and after the rows and keeps the higher.
    """
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((n, n)).astype(dtype), rng.standard_normal((n, n)).astype(dtype)
    np.dot(a, b)
    best = min(_timed(lambda: np.dot(a, b)) for _ in range(repeats))
    return 2 * n**3 / best / 1e9


def set_numpy_blas_threads(threads: int | None) -> int | None:
    """Make NumPy's OpenBLAS use ``threads`` threads (as PyTorch and numba are told; None: leave it); return
    the count it reports, or None when NumPy's BLAS is not a bundled OpenBLAS."""
    from ._threads import get_blas_threads, set_blas_threads

    if threads is not None:
        set_blas_threads(threads)
    return get_blas_threads()


def _timed(fn: Callable[[], object]) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def layer_flops(cell: str, B: int, T: int, I: int, H: int, stacked: bool = False) -> float:
    """GEMM flops of forward + backward: forward 2TBGH(I+H), backward twice that; for a stacked row, two
    directions of a layer reading I features and two of a layer reading 2H."""
    if stacked:
        return 2 * (layer_flops(cell, B, T, I, H) + layer_flops(cell, B, T, 2 * H, H))
    return 6.0 * T * B * GATES[cell] * H * (I + H)


# -- the four implementations -------------------------------------------------------------------------
def _microseq_step(cell: str, shape: tuple, dtype, fused: bool, stacked: bool = False) -> Callable[[], None]:
    import microseq as ms
    from microseq import nn

    B, T, I, H = shape
    layer = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}[cell](I, H, 1 + stacked, bidirectional=stacked,
                                                                 fused=fused, dtype=dtype)
    x = ms.Tensor(np.random.default_rng(1).standard_normal((T, B, I)).astype(dtype), requires_grad=True)

    def step():
        layer.zero_grad()
        x.grad = None
        output = layer(x)[0]
        output.sum().backward()

    return step


def _torch_step(cell: str, shape: tuple, dtype, stacked: bool = False) -> Callable[[], None]:
    import torch

    B, T, I, H = shape
    torch_dtype = torch.float32 if dtype == np.float32 else torch.float64
    layer = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[cell](
        I, H, 1 + stacked, bidirectional=stacked).to(torch_dtype)
    x = torch.randn(T, B, I, dtype=torch_dtype, requires_grad=True)

    def step():
        layer.zero_grad()
        x.grad = None
        layer(x)[0].sum().backward()

    return step


def measure_row(cell: str, shape: tuple, dtype, implementations, repeats: int, warmup: int, peak: float,
                budget_s: float = 5.0, stacked: bool = False) -> Row:
    """Time one (cell, shape, dtype) in every implementation, interleaved (see ``interleaved_median_ms``);
    ``torch`` is left out when PyTorch is not installed. A ``stacked`` row (two bidirectional layers) times
    only ``STACKED_IMPLEMENTATIONS``: the composed and NumPy paths would take minutes there."""
    from microseq import kernels

    row = Row(cell, np.dtype(dtype).name, shape, stacked)
    steps = {}
    for name in implementations:
        if stacked and name not in STACKED_IMPLEMENTATIONS:
            continue
        if name == "torch":
            if _import_torch() is not None:
                steps[name] = _torch_step(cell, shape, dtype, stacked)
        elif name == "numpy":
            steps[name] = _on_numpy_backend(kernels, _microseq_step(cell, shape, dtype, fused=True))
        else:
            steps[name] = _microseq_step(cell, shape, dtype, fused=name == "fused", stacked=stacked)
    row.ms = interleaved_median_ms(steps, repeats, warmup, budget_s)
    if "fused" in row.ms:
        row.gflops = layer_flops(cell, *shape, stacked=stacked) / (row.ms["fused"] / 1e3) / 1e9
        row.peak_fraction = row.gflops / peak
    return row


def _on_numpy_backend(kernels, step: Callable[[], None]) -> Callable[[], None]:
    """``step`` run with the kernels switched to the NumPy reference backend."""
    def numpy_step():
        previous = kernels.set_backend("numpy")
        try:
            step()
        finally:
            kernels.set_backend(previous)

    return numpy_step


# -- the engine's own overhead -----------------------------------------------------------------------
CHAIN = 100  # ops in the recorded chain of ``engine_overhead_us``


def engine_overhead_us(repeats: int = 20000, torch=None) -> dict:
    """Microseconds per op: NumPy's own time for a small op (x * w on 4 float32 values), recording it, recording
    and replaying it, and a chain of ``CHAIN`` such ops recorded then replayed by one backward (per op); with
    ``torch``, PyTorch's time for the same three (keys ``torch_...``)."""
    import microseq as ms

    a = np.ones(4, dtype=np.float32)
    result = {"numpy_op_us": _per_call_us(lambda: a * a, repeats)}
    result.update(_overhead_of(ms.Tensor(a.copy(), requires_grad=True), ms.Tensor(a.copy(), requires_grad=True),
                               np.ones(4, dtype=np.float32), repeats))
    if torch is not None:
        ones = torch.ones(4, dtype=torch.float32)
        times = _overhead_of(ones.clone().requires_grad_(), ones.clone().requires_grad_(), ones.clone(), repeats)
        result.update({f"torch_{name}": value for name, value in times.items()})
    return result


def _overhead_of(x, w, upstream, repeats: int) -> dict:
    """``record_op_us``, ``record_and_backward_us`` and ``chain_per_op_us`` of x * w, for microseq's or
    PyTorch's tensors (both spell these the same)."""
    def record():
        x * w

    def record_and_replay():
        (x * w).backward(upstream)

    def chain():
        y = x
        for _ in range(CHAIN):
            y = y * w
        y.backward(upstream)

    return {
        "record_op_us": _per_call_us(record, repeats),
        "record_and_backward_us": _per_call_us(record_and_replay, repeats),
        "chain_per_op_us": _per_call_us(chain, max(1, repeats // CHAIN)) / CHAIN,
    }


def _per_call_us(fn: Callable[[], object], repeats: int) -> float:
    """Microseconds per call of ``fn``: the best of 5 rounds of ``repeats`` calls."""
    best = float("inf")
    for _ in range(5):
        t0 = time.perf_counter()
        for _ in range(repeats):
            fn()
        best = min(best, (time.perf_counter() - t0) / repeats)
    return 1e6 * best


# -- beyond one layer: training steps and the CNN, against PyTorch ---------------------------------------------
@dataclass
class Workload:
    """A training step (``group`` "step") or a CNN layer ("cnn") timed in microseq and in PyTorch."""

    group: str
    name: str
    threads: int  # BLAS / PyTorch / numba threads of both
    ms: dict = field(default_factory=dict)  # "microseq", "torch" -> median milliseconds

    @property
    def speedup_vs_torch(self) -> float | None:
        if "torch" in self.ms and "microseq" in self.ms:
            return self.ms["torch"] / self.ms["microseq"]
        return None


def measure_steps(names, threads: int, quick: bool, repeats: int, warmup: int, budget_s: float) -> list[Workload]:
    """A :class:`Workload` per training step of :data:`microseq.bench_models.STEPS` in ``names``, PyTorch's
    step timed in turns with microseq's (see ``interleaved_median_ms``)."""
    from . import bench_models

    rows = []
    for name in names:
        config = bench_models.step_config(name, quick)
        step, task, _ = bench_models.microseq_step(config)
        steps = {"microseq": step, "torch": bench_models.torch_step(config, task)[0]}
        rows.append(Workload("step", name, threads, interleaved_median_ms(steps, repeats, warmup, budget_s)))
    return rows


def measure_cnn(threads: int, quick: bool, repeats: int, warmup: int, budget_s: float) -> list[Workload]:
    """A :class:`Workload` per layer of the captioning CNN and for the whole encoder
    (:func:`microseq.bench_models.cnn_layers`)."""
    from . import bench_models

    return [Workload("cnn", name, threads, interleaved_median_ms({"microseq": step, "torch": torch_step}, repeats,
                                                                 warmup, budget_s))
            for name, (step, torch_step) in bench_models.cnn_layers(quick).items()]


# -- output ------------------------------------------------------------------------------------------
def format_table(rows: list[Row], peaks: dict) -> str:
    """One line per row: the milliseconds of each implementation timed (no column for one that was not), the
    ratios to the fused path that they allow, GFLOP/s and the fraction of the GEMM peak."""
    implementations = [name for name in IMPLEMENTATIONS if all(name in r.ms for r in rows if not r.stacked)]
    implementations = [name for name in implementations if any(name in r.ms for r in rows)]
    ratios = [("torch/fused", "torch"), ("composed/fused", "composed")]
    ratios = [(title, name) for title, name in ratios if name in implementations and "fused" in implementations]
    header = ["cell", "dtype", "B,T,I,H"] + [f"{n} ms" for n in implementations] + [t for t, _ in ratios]
    lines = [header + ["GFLOP/s", "% peak"]]
    for r in rows:
        lines.append(
            [r.cell, r.dtype, ",".join(map(str, r.shape)) + (" 2 layers bidir" if r.stacked else "")]
            + [f"{r.ms[n]:.2f}" if n in r.ms else "-" for n in implementations]
            + [f"{r.ms[name] / r.ms['fused']:.2f}x" if name in r.ms else "-" for _, name in ratios]
            + [f"{r.gflops:.1f}", f"{100 * r.peak_fraction:.0f}%"]
        )
    text = _columns(lines)
    peak_text = ", ".join(f"{k} {v:.1f} GFLOP/s" for k, v in peaks.items())
    return f"{text}\nGEMM peak measured in this run: {peak_text}"


def format_workloads(rows: list[Workload]) -> str:
    """One line per training step or CNN layer: microseq and PyTorch milliseconds, their ratio, the threads."""
    lines = [["workload", "microseq ms", "torch ms", "torch/microseq", "threads"]]
    for r in rows:
        lines.append([f"{r.group}: {r.name}", f"{r.ms['microseq']:.2f}", f"{r.ms['torch']:.2f}",
                      f"{r.speedup_vs_torch:.2f}x", str(r.threads)])
    return _columns(lines, left=1)


def _columns(lines: list[list[str]], left: int = 0) -> str:
    """The cells of ``lines`` in aligned columns: the first ``left`` flush left, the others flush right."""
    widths = [max(len(line[i]) for line in lines) for i in range(len(lines[0]))]
    return "\n".join("  ".join(c.ljust(w) if i < left else c.rjust(w) for i, (c, w) in enumerate(zip(line, widths)))
                     for line in lines)


def format_overhead(overhead: dict) -> str:
    """The engine line: microseq's per-op times, and PyTorch's beside them when measured."""
    def both(key: str) -> str:
        torch = overhead.get(f"torch_{key}")
        return f"{overhead[key]:.2f} us" + ("" if torch is None else f" (torch {torch:.2f})")

    return (f"engine overhead per op: NumPy op alone {overhead['numpy_op_us']:.2f} us, recorded "
            f"{both('record_op_us')}, recorded + backward {both('record_and_backward_us')}, in a chain of {CHAIN} "
            f"recorded + backward {both('chain_per_op_us')}")


TORCH_HINT = "pip install torch --index-url https://download.pytorch.org/whl/cpu"


def _import_torch():
    """The ``torch`` module, or None when PyTorch is not installed."""
    try:
        import torch
    except ImportError:
        return None
    return torch


def parse_shape(spec: str, parser: argparse.ArgumentParser) -> tuple:
    """A shape name from ``SHAPES`` or four numbers ``B,T,I,H``."""
    if spec in SHAPES:
        return SHAPES[spec]
    try:
        shape = tuple(int(v) for v in spec.split(","))
    except ValueError:
        shape = ()
    if len(shape) != 4 or min(shape) < 1:
        parser.error(f"bad shape {spec!r}: use a name from {list(SHAPES)} or four positive numbers B,T,I,H")
    return shape


def use_threads(threads: int, torch=None) -> dict:
    """Give PyTorch (when given), numba and NumPy's BLAS ``threads`` threads; return the counts they report."""
    import numba

    numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
    counts = {"numba": numba.get_num_threads(), "numpy_blas": set_numpy_blas_threads(threads)}
    if torch is not None:
        torch.set_num_threads(threads)
        counts["torch"] = torch.get_num_threads()
    return counts


def main(argv: list[str] | None = None) -> int:
    from .bench_models import STEPS
    from .training.config import FIELDS

    train_threads = FIELDS["threads"].default
    parser = argparse.ArgumentParser(prog="microseq bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--cells", default="rnn,lstm,gru", help="comma-separated: rnn, lstm, gru")
    parser.add_argument("--shapes", nargs="+", default=list(SHAPES), help=f"names from {list(SHAPES)} or B,T,I,H")
    parser.add_argument("--stacked", nargs="*", default=list(STACKED), choices=list(STACKED),
                        help="two-layer bidirectional rows (float32, LSTM and GRU among --cells); none: --stacked")
    parser.add_argument("--steps", nargs="*", default=list(STEPS), choices=list(STEPS), metavar="STEP",
                        help=f"whole training steps against PyTorch, of {list(STEPS)}; none: --steps")
    parser.add_argument("--cnn", action=argparse.BooleanOptionalAction, default=True,
                        help="the captioning CNN's layers against PyTorch")
    parser.add_argument("--dtypes", default="float32,float64")
    parser.add_argument("--impl", default=",".join(IMPLEMENTATIONS),
                        help="which implementations to time (without torch: no training steps or CNN rows)")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--threads", type=int, default=None,
                        help="PyTorch, numba and BLAS threads (default: all cores for the layer rows, and "
                             f"microseq train's default, {train_threads}, for the training steps and the CNN)")
    parser.add_argument("--budget", type=float, default=5.0,
                        help="seconds of timed runs per implementation and row (at least two runs)")
    parser.add_argument("--quick", action="store_true", help="a smoke test: tiny shapes and models, few repeats")
    parser.add_argument("--json", action="store_true", help="print results as JSON")
    args = parser.parse_args(argv)

    if args.quick:
        args.shapes, args.stacked, args.repeats, args.warmup = ["2,5,3,4"], [], 2, 1
    cells = [c.strip() for c in args.cells.split(",") if c.strip()]
    unknown = [c for c in cells if c not in GATES]
    if unknown:
        parser.error(f"unknown cell {unknown[0]!r}; choose from {list(GATES)}")
    if args.threads is not None and args.threads < 1:
        parser.error(f"--threads must be at least 1, got {args.threads}")
    shapes = [parse_shape(spec, parser) for spec in args.shapes]
    dtypes = [np.dtype(d.strip()).type for d in args.dtypes.split(",") if d.strip()]
    implementations = [i.strip() for i in args.impl.split(",") if i.strip()]
    unknown = [i for i in implementations if i not in IMPLEMENTATIONS]
    if unknown or not implementations:
        bad = unknown[0] if unknown else args.impl
        parser.error(f"unknown implementation {bad!r}; choose from {list(IMPLEMENTATIONS)}")

    torch = _import_torch()
    if torch is None and "torch" in implementations:
        implementations.remove("torch")
        if not implementations:
            parser.error(f"PyTorch is not installed ({TORCH_HINT})")
        print(f"microseq bench: PyTorch is not installed, so its column and the rows against it are left out "
              f"({TORCH_HINT})", file=sys.stderr)
    if "torch" not in implementations:
        torch = None
    threads = use_threads(args.threads or os.cpu_count() or 1, torch)
    from microseq import kernels

    compile_seconds = kernels.compile_all()
    peak_n = 256 if args.quick else 1024
    peaks = {np.dtype(d).name: gemm_peak_gflops(d, n=peak_n) for d in dtypes}
    overhead = engine_overhead_us(2000 if args.quick else 20000, torch)
    rows = []
    for dtype in dtypes:
        for shape in shapes:
            for cell in cells:
                rows.append(measure_row(cell, shape, dtype, implementations, args.repeats, args.warmup,
                                        peaks[np.dtype(dtype).name], args.budget))
    if np.float32 in dtypes:
        for name in args.stacked:
            for cell in (c for c in cells if c in STACKED_CELLS):
                rows.append(measure_row(cell, STACKED[name], np.float32, implementations, args.repeats,
                                        args.warmup, peaks["float32"], args.budget, stacked=True))
    for dtype in dtypes:  # again after the rows: the machine is shared, the better of the two is its peak
        name = np.dtype(dtype).name
        peaks[name] = max(peaks[name], gemm_peak_gflops(dtype, n=peak_n))
    for row in rows:
        row.peak_fraction = row.gflops / peaks[row.dtype]
    workloads = []
    if torch is not None and (args.steps or args.cnn):
        count = args.threads or train_threads
        use_threads(count, torch)
        workloads = measure_steps(args.steps, count, args.quick, args.repeats, args.warmup, args.budget)
        if args.cnn:
            workloads += measure_cnn(count, args.quick, args.repeats, args.warmup, args.budget)
    if args.json:
        print(json.dumps({
            "rows": [dict(asdict(r), speedup_vs_torch=r.speedup_vs_torch) for r in rows],
            "workloads": [dict(asdict(w), speedup_vs_torch=w.speedup_vs_torch) for w in workloads],
            "gemm_peak_gflops": peaks,
            "engine_overhead_us": overhead,
            "compile_seconds": compile_seconds,
            "threads": threads,
            "torch_version": None if torch is None else torch.__version__,
        }, indent=2))
    else:
        print(format_table(rows, peaks))
        print("threads: " + ", ".join(f"{k} {v}" for k, v in threads.items()))
        print(format_overhead(overhead))
        if workloads:
            print(format_workloads(workloads))
        if compile_seconds:
            print("first-call compile time: " + ", ".join(f"{k} {v:.2f} s" for k, v in compile_seconds.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
