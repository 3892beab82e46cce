"""A short run of the load test (`benchmarks/load.py`): real `gallery serve` processes, every operation at once from
several clients, then the invariants — on the embedded default, through two SIGKILLs and restarts, and on the AWS
backend (moto over loopback) with a tenth of the server's AWS calls refused."""

from __future__ import annotations

from pathlib import Path

from benchmarks import load

CLIENTS, SECONDS = 6, 5.0


def assert_exercised(outcome: load.Outcome) -> None:
    assert outcome.tally.violations == [], outcome.tally.violations[:10]
    done = outcome.tally.answered()
    assert set(load.MIX) <= done, set(load.MIX) - done
    assert outcome.checked > 0


def test_nothing_acknowledged_is_lost_through_load_and_two_sigkills(tmp_path: Path) -> None:
    steady, killed = load.local_runs(CLIENTS, SECONDS, tmp_path, on_line=lambda _: None)
    for outcome in (steady, killed):
        assert_exercised(outcome)
    assert sum(steady.tally.unanswered.values()) == 0
    assert killed.kills == 2
    assert "unreferenced blob" in killed.collected  # gc ran; the blob folder then matched the catalog


def test_on_aws_a_refused_call_is_a_503_and_never_half_a_write(tmp_path: Path) -> None:
    # Rare operations (imports are 4% of the mix) may all draw a refusal in 5 s on moto: go on until each has
    # succeeded once, 30 s at most.
    outcome = load.aws_run(CLIENTS, SECONDS, tmp_path, on_line=lambda _: None, at_most=30.0)
    assert_exercised(outcome)
    refused = sum(n for (_, status), n in outcome.tally.statuses.items() if status == 503)
    assert refused > 0  # the stub did refuse, and each refusal was a clean 503
