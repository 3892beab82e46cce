"""Both functions deployed by Zappa from the zips `make package` built and checked (`-z`): never from whatever
environment happens to be active. Zappa reads a settings file generated for this deploy from zappa_settings.json:
the region the credentials point at, a code bucket of our naming, no request to the new URL, and the values only
known now (the site's tenant and distribution)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from deploy.stage import ROOT, SETTINGS, DeployError, Stage

ZAPPA = Path(sys.executable).parent / "zappa"


def settings_file(stage: Stage, folder: Path, publisher_env: dict[str, str]) -> Path:
    settings = json.loads(SETTINGS.read_text())
    for name in (stage.name, stage.publisher):
        settings[name] = {
            **settings[name],
            "aws_region": stage.region,
            "s3_bucket": stage.code_bucket,
            "touch": False,
        }
    settings[stage.publisher]["aws_environment_variables"] = {
        **settings[stage.publisher]["aws_environment_variables"],
        **publisher_env,
    }
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "zappa_settings.json"
    path.write_text(json.dumps(settings, indent=2))
    return path


def zip_of(zappa_stage: str) -> Path:
    path = ROOT / "build" / f"lambda-{zappa_stage}.zip"
    if not path.is_file():
        raise DeployError(f"{path.relative_to(ROOT)} is missing: `make deploy` builds it with `make package`")
    return path


# A role made seconds ago may not be usable by Lambda yet (IAM is eventually consistent): CreateFunction then says
# the role "cannot be assumed by Lambda" for a while. That one answer is waited out; any other fails at once.
ROLE_NOT_YET = "cannot be assumed by Lambda"
ATTEMPTS, PAUSE = 6, 10.0


def deploy_or_update(zappa_stage: str, exists: bool, settings: Path, pause: float = PAUSE) -> None:
    verb = "update" if exists else "deploy"
    for attempt in range(1, ATTEMPTS + 1):
        try:
            run(verb, zappa_stage, "-z", str(zip_of(zappa_stage)), "-s", str(settings))
            return
        except DeployError as exc:
            if ROLE_NOT_YET not in str(exc) or attempt == ATTEMPTS:
                raise
            time.sleep(pause)


def undeploy(zappa_stage: str, settings: Path) -> None:
    run("undeploy", zappa_stage, "--yes", "-s", str(settings))


def run(*arguments: str) -> None:
    done = subprocess.run([str(ZAPPA), *arguments], cwd=ROOT, capture_output=True, text=True, check=False)
    # Zappa logs a failed event source or schedule and still ends "Deployment complete": its own exit code and
    # its output are both read.
    problems = [line for line in done.stdout.splitlines() + done.stderr.splitlines() if _is_problem(line)]
    if done.returncode != 0 or problems:
        shown = problems or (done.stderr or done.stdout).strip().splitlines()[-5:]
        raise DeployError(f"zappa {' '.join(arguments[:2])} failed: {' | '.join(shown)}")


def _is_problem(line: str) -> bool:
    lowered = line.lower()
    return lowered.startswith(("error", "traceback")) or "unable to" in lowered or "problem " in lowered
