"""The deploy's own rules, without a server: which of Zappa's failures are waited out and which stop it."""

from __future__ import annotations

from pathlib import Path

import pytest

from deploy import zappa
from deploy.stage import DeployError


@pytest.fixture
def zips(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(zappa, "zip_of", lambda stage: tmp_path / f"lambda-{stage}.zip")


def test_a_role_iam_has_not_spread_yet_is_waited_for(zips: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """IAM is eventually consistent: a role made seconds before is refused by CreateFunction for a while."""
    calls: list[tuple[str, ...]] = []

    def run(*arguments: str) -> None:
        calls.append(arguments)
        if len(calls) < 3:
            raise DeployError("zappa deploy dev failed: The role defined for the function cannot be assumed by Lambda.")

    monkeypatch.setattr(zappa, "run", run)
    zappa.deploy_or_update("dev", exists=False, settings=Path("s.json"), pause=0)
    assert len(calls) == 3
    assert calls[0][:2] == ("deploy", "dev")


def test_any_other_failure_stops_at_once(zips: None, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[str, ...]] = []

    def run(*arguments: str) -> None:
        calls.append(arguments)
        raise DeployError("zappa update dev failed: Unable to upload")

    monkeypatch.setattr(zappa, "run", run)
    with pytest.raises(DeployError, match="Unable to upload"):
        zappa.deploy_or_update("dev", exists=True, settings=Path("s.json"), pause=0)
    assert len(calls) == 1


def test_the_wait_has_an_end(zips: None, monkeypatch: pytest.MonkeyPatch) -> None:
    def run(*arguments: str) -> None:
        raise DeployError("cannot be assumed by Lambda")

    monkeypatch.setattr(zappa, "run", run)
    with pytest.raises(DeployError):
        zappa.deploy_or_update("dev", exists=False, settings=Path("s.json"), pause=0)
