"""The progress display: lines when not a terminal, the bar, the ETA."""

import io

from microseq.training.progress import Progress, format_count, format_duration


def test_formatting():
    assert format_duration(75.2) == "1:15" and format_duration(3725) == "1:02:05"
    assert format_count(12345) == "12.3k" and format_count(2.5e6) == "2.5M" and format_count(12) == "12"


def test_progress_lines_when_not_a_terminal():
    stream = io.StringIO()
    progress = Progress(total_steps=10, mode="auto", log_interval=5, stream=stream)
    for step in range(1, 11):
        progress.update(step, loss=2.0, tokens_per_s=1500)
    progress.close()
    lines = stream.getvalue().splitlines()
    assert len(lines) == 2 and lines[0].startswith("step 5/10: smoothed loss 2.0000, 1.5k tok/s, ETA ")


def test_progress_bar_shows_loss_speed_and_eta():
    stream = io.StringIO()
    progress = Progress(total_steps=4, start_step=1, mode="bar", stream=stream)
    progress.update(2, loss=1.5, tokens_per_s=2000)
    progress._bar.refresh()
    progress.close()
    text = stream.getvalue()
    assert "2/4" in text and "smoothed loss 1.5000" in text and "2.0k tok/s" in text and "ETA" in text


def test_eta_respects_the_time_budget():
    progress = Progress(total_steps=10**9, time_budget=60, mode="off")
    progress.started -= 1.0
    assert 58 < progress.eta(step=10) <= 59.01


# -- sampling probabilities ------------------------------------------------------------------------------------
