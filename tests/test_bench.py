"""The benchmark runs end to end at a tiny size (a smoke test: speed goals live in the benchmark, not here)."""

import json

import pytest

from microseq import bench


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


def test_table_output_names_the_columns(capsys):
    bench.main(["--quick", "--cells", "gru", "--dtypes", "float32", "--impl", "fused,composed"])
    out = capsys.readouterr().out
    assert "fused ms" in out and "GEMM peak" in out and "engine overhead" in out


def test_bad_shape_is_a_clear_error(capsys):
    with pytest.raises(SystemExit):
        bench.main(["--shapes", "1,2,3"])
    assert "B,T,I,H" in capsys.readouterr().err
