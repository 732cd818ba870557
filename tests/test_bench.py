"""The benchmark runs end to end at a tiny size (a smoke test: speed goals live in the benchmark, not here)."""

import json
import os
import sys

import numpy as np
import pytest

from microseq import bench, bench_models
from microseq.training import TrainConfig


def test_quick_benchmark_reports_every_row_and_the_overheads(capsys):
    assert bench.main(["--quick", "--json", "--impl", "fused,composed,numpy,torch"]) == 0
    result = json.loads(capsys.readouterr().out)
    rows = result["rows"]
    assert {(r["cell"], r["dtype"]) for r in rows} == {
        (c, d) for c in ("rnn", "lstm", "gru") for d in ("float32", "float64")
    }
    for row in rows:
        for name in ("fused", "composed", "numpy"):
            assert row["ms"][name] > 0
        assert row["gflops"] > 0
    assert all(v > 0 for v in result["gemm_peak_gflops"].values())
    overhead = result["engine_overhead_us"]
    assert 0 < overhead["record_op_us"] < overhead["record_and_backward_us"]
    assert 0 < overhead["chain_per_op_us"]
    assert result["threads"]["numpy_blas"] in (None, os.cpu_count())  # as told (--threads: all cores)
    assert {"lstm float32", "gru float64"} <= set(result["compile_seconds"])
    if result["torch_version"] is not None:  # PyTorch's engine beside ours, and the rows against it
        assert 0 < overhead["torch_record_op_us"] < overhead["torch_record_and_backward_us"]
        assert 0 < overhead["torch_chain_per_op_us"]
        workloads = result["workloads"]
        assert [w["name"] for w in workloads if w["group"] == "step"] == list(bench_models.STEPS)
        assert [w["name"].split()[0] for w in workloads if w["group"] == "cnn"] == (
            ["conv2d", "batchnorm2d", "max_pool2d"] * 3 + ["encoder,"])
        for w in workloads:
            assert w["ms"]["microseq"] > 0 and w["ms"]["torch"] > 0 and w["speedup_vs_torch"] > 0
            assert w["threads"] == TrainConfig().threads  # microseq train's default (no --threads given)


def test_table_output_names_the_columns(capsys):
    bench.main(["--quick", "--cells", "gru", "--dtypes", "float32", "--impl", "fused,composed"])
    out = capsys.readouterr().out
    assert "fused ms" in out and "GEMM peak" in out and "engine overhead" in out
    assert "workload" not in out  # no torch among --impl: nothing to set against it


def test_training_steps_and_cnn_rows_print_as_a_table_at_the_threads_given(capsys):
    pytest.importorskip("torch")
    bench.main(["--quick", "--cells", "", "--steps", "dates", "--no-cnn", "--threads", "2"])
    out = capsys.readouterr().out
    assert "torch/microseq" in out and "step: dates" in out and "cnn:" not in out and "step: charlm" not in out
    assert out.count("(torch ") == 3  # the engine line sets each of its three times beside PyTorch's
    row = next(line for line in out.splitlines() if line.startswith("step: dates"))
    assert row.split()[-1] == "2"


def test_without_pytorch_its_column_is_left_out_and_one_line_says_so(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "torch", None)  # `import torch` raises ImportError
    assert bench.main(["--quick", "--cells", "gru", "--dtypes", "float32"]) == 0
    captured = capsys.readouterr()
    assert captured.err.splitlines() == [
        "microseq bench: PyTorch is not installed, so its column and the rows against it are left out "
        f"({bench.TORCH_HINT})"
    ]
    assert "fused ms" in captured.out and "composed/fused" in captured.out
    assert "torch" not in captured.out  # no empty column, no ratio, no thread count, no workload rows

    assert bench.main(["--quick", "--cells", "rnn", "--dtypes", "float64", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["torch_version"] is None and "torch" not in result["threads"]
    assert result["workloads"] == [] and not any(k.startswith("torch") for k in result["engine_overhead_us"])
    assert [set(row["ms"]) for row in result["rows"]] == [{"fused", "composed", "numpy"}]
    assert result["rows"][0]["speedup_vs_torch"] is None


@pytest.mark.parametrize("impl, message", [
    ("torch", "PyTorch is not installed (pip install torch"),
    ("fused,pytorch", "unknown implementation 'pytorch'; choose from"),
    (",", "unknown implementation ','"),
])
def test_an_implementation_that_cannot_be_timed_is_a_clear_error(impl, message, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "torch", None)
    with pytest.raises(SystemExit):
        bench.main(["--quick", "--impl", impl])
    assert message in capsys.readouterr().err


def test_bad_shape_is_a_clear_error(capsys):
    with pytest.raises(SystemExit):
        bench.main(["--shapes", "1,2,3"])
    assert "B,T,I,H" in capsys.readouterr().err


def test_implementations_are_timed_in_turns_and_slow_ones_stop_at_the_budget():
    calls = []
    steps = {name: (lambda name=name: calls.append(name)) for name in ("fused", "torch")}
    result = bench.interleaved_median_ms(steps, repeats=5, warmup=1, budget_s=1e9)
    assert calls == ["fused", "torch"] + ["fused", "torch"] * 5  # warm-up, then one of each per round
    assert set(result) == {"fused", "torch"} and all(ms >= 0 for ms in result.values())
    calls.clear()
    bench.interleaved_median_ms(steps, repeats=10, warmup=3, budget_s=0.0)
    assert calls == ["fused", "torch"] * (1 + bench.MIN_RUNS)  # one warm-up call, the minimum of timed runs


def test_numpy_blas_thread_count_is_set_like_torch_and_numba():

    np.dot(np.ones((2, 2)), np.ones((2, 2)))  # NumPy's BLAS is loaded
    before = bench.set_numpy_blas_threads(None)
    if before is None:
        pytest.skip("NumPy's BLAS is not an OpenBLAS found in this process")
    try:
        assert bench.set_numpy_blas_threads(1) == 1
        assert bench.set_numpy_blas_threads(2) == 2
    finally:
        bench.set_numpy_blas_threads(before)


def test_a_row_measured_without_pytorch_has_no_torch_column(monkeypatch):
    """What tutorial 10 does: measure rows with every implementation, on a machine without PyTorch."""
    monkeypatch.setitem(sys.modules, "torch", None)
    row = bench.measure_row("rnn", (1, 3, 2, 2), np.float64, bench.IMPLEMENTATIONS, repeats=1, warmup=0, peak=1.0)
    assert set(row.ms) == {"fused", "composed", "numpy"} and row.speedup_vs_torch is None
    assert "torch" not in bench.format_table([row], {"float64": 1.0})


def test_a_stacked_row_times_two_bidirectional_layers_with_the_fused_path_and_pytorch_only():
    row = bench.measure_row("gru", (2, 3, 4, 5), np.float32, bench.IMPLEMENTATIONS, repeats=1, warmup=0, peak=1.0,
                            stacked=True)
    expected = {"fused", "torch"} if bench._import_torch() is not None else {"fused"}
    assert row.stacked and set(row.ms) == expected
    # layer 0 reads I=4 features, layer 1 the 2H=10 of both directions; each layer has two directions
    assert bench.layer_flops("gru", 2, 3, 4, 5, stacked=True) == 2 * 6.0 * 3 * 2 * 3 * 5 * ((4 + 5) + (10 + 5))
    table = bench.format_table([bench.measure_row("gru", (2, 3, 4, 5), np.float32, ["fused", "composed"], 1, 0, 1.0),
                                row], {"float32": 1.0})
    assert "2,3,4,5 2 layers bidir" in table and "composed ms" in table


def test_the_stacked_rows_can_be_left_out(capsys):
    bench.main(["--cells", "lstm", "--shapes", "2,3,2,2", "--dtypes", "float32", "--impl", "fused", "--repeats", "1",
                "--warmup", "0", "--stacked"])
    assert "bidir" not in capsys.readouterr().out
