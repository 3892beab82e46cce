"""Checks a Lambda zip built by `zappa package`: the entry point and settings are in, tests are out, it fits
Lambda's limits (50 MB zipped for a direct upload, 250 MB unzipped), and — unpacked, with nothing else on the path —
it imports Zappa's handler and builds the app, as a Lambda cold start would. Prints its size."""

from __future__ import annotations

import json
import logging
import os
import re
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ZIPPED_LIMIT = 50 * 1024 * 1024
UNZIPPED_LIMIT = 250 * 1024 * 1024
REQUIRED = (
    "functions/api.py",
    "gallery/web/app.py",
    "gallery/storage/local/schema.sql",  # package data: a wheel without it cannot open the local backend
    "zappa_settings.py",
    "handler.py",
    "PIL/Image.py",
    "boto3/__init__.py",
    "botocore/docs/__init__.py",  # imported by botocore at start-up: an exclude named `docs` would drop it
)

# As Lambda starts the API: the handler imported from the zip alone, the stage's own environment (the aws backend; the
# token secret only in SSM Parameter Store, never in the environment), then one request through API Gateway's event.
COLD_START = """
import json, sys, time
sys.path.insert(0, sys.argv[1])
started = time.perf_counter()
import handler, zappa_settings
from functions.api import app, lambda_handler
imported = time.perf_counter() - started
event = {"httpMethod": "GET", "path": "/api/images", "resource": "/{proxy+}", "headers": {"Host": "x.example"},
         "queryStringParameters": {"pageSize": "1", "page": "0"}, "body": None, "isBase64Encoded": False,
         "requestContext": {"identity": {"sourceIp": "192.0.2.1"}}}
answer = lambda_handler(event, None)
assert answer["statusCode"] == 401, answer  # the app answered, as itself: no token, no images
assert json.loads(answer["body"])["errorCode"] == 10, answer
import boto3, PIL.Image, flask
print(f"cold start ok: imported in {imported:.3f} s")
"""
BARE_FLASK = """
import sys, time
started = time.perf_counter()
import flask
flask.Flask("bare")
print(f"{time.perf_counter() - started:.3f}")
"""

# The publisher builds the site with the site builder and the packaged theme, in the zip.
PUBLISHER_REQUIRED = (
    "functions/publisher.py",
    "gallery/publisher.py",
    "gallery/site/theme/manage.html",
    "gallery/site/theme/gallery/image.html",
    "zappa_settings.py",
    "handler.py",
    "boto3/__init__.py",
)
PUBLISHER_COLD_START = """
import sys
sys.path.insert(0, sys.argv[1])
import handler, zappa_settings
from functions.publisher import lambda_handler, UnknownEvent
done = lambda_handler({"source": "aws.events", "detail-type": "Scheduled Event"}, None)
# MkDocs, the theme and the plugin, from the zip
assert done["error"] is None and "index.html" in done["uploaded"], done
try:
    lambda_handler({"something": "else"}, None)
except UnknownEvent:
    pass
else:
    raise AssertionError("an event that is neither the stream nor the schedule must fail the invocation")
print("publisher cold start ok: an empty site built and published")
"""


def _stage_of(settings_module: str) -> str:
    found = re.search(r"API_STAGE='([^']+)'", settings_module)
    if not found:
        raise SystemExit("zappa_settings.py names no stage")
    return found.group(1)


def main(path: Path, publisher: bool = False) -> None:
    with zipfile.ZipFile(path) as archive:
        names = set(archive.namelist())
        unzipped = sum(info.file_size for info in archive.infolist())
        settings = archive.read("zappa_settings.py").decode()
    missing = [name for name in (PUBLISHER_REQUIRED if publisher else REQUIRED) if name not in names]
    leaked = sorted(
        {name.split("/")[0] for name in names if name.startswith(("tests/", ".venv", "benchmarks/", "node_modules/"))}
    )
    zipped = path.stat().st_size
    print(f"{path}: {zipped / 2**20:.1f} MiB zipped, {unzipped / 2**20:.1f} MiB unzipped, {len(names)} files")
    problems = []
    if missing:
        problems.append(f"missing {missing}")
    if leaked:
        problems.append(f"should be excluded: {leaked}")
    if publisher:
        if "APP_MODULE='functions.publisher'" not in settings:
            problems.append("zappa_settings.py does not name functions.publisher")
    elif "APP_MODULE='functions.api'" not in settings or "BINARY_SUPPORT=True" not in settings:
        problems.append("zappa_settings.py does not name functions.api with binary support")
    if zipped > ZIPPED_LIMIT or unzipped > UNZIPPED_LIMIT:
        problems.append("too large for Lambda")
    if not problems:
        stage = _stage_of(settings)
        problems += _cold_start(path, PUBLISHER_COLD_START if publisher else COLD_START, stage)
    if problems:
        sys.exit("; ".join(problems))


def _cold_start(path: Path, script: str, stage: str) -> list[str]:
    """Import the function from the unpacked zip alone (`-S`: no site-packages, so a missing module cannot hide), on
    the aws backend of a moto server, with the stage's environment as Zappa deploys it: no secret in it."""
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's request log
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the checkout's `deploy`, run from anywhere
    from deploy.stage import SETTINGS, stage_settings

    settings = json.loads(SETTINGS.read_text())
    stage_env = dict(stage_settings(settings, stage)["aws_environment_variables"])
    secrets = [name for name in stage_env if "SECRET" in name and name != "GALLERY_SECRETS_PATH"]
    if secrets:
        return [f"the stage's environment holds secrets: {secrets}"]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        aws = {**_AWS, "AWS_ENDPOINT_URL": f"http://{host}:{port}"}
        _provision(stage_env, aws)
        with tempfile.TemporaryDirectory() as unpacked, zipfile.ZipFile(path) as archive:
            archive.extractall(unpacked)
            env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "TMPDIR": unpacked, **stage_env, **aws}
            started = time.perf_counter()
            done = subprocess.run(
                [sys.executable, "-S", "-c", script, unpacked], env=env, capture_output=True, text=True, check=False
            )
            took = time.perf_counter() - started
    finally:
        server.stop()
    if done.returncode != 0:
        return [f"the package does not start: {done.stderr.strip().splitlines()[-3:]}"]
    bare = subprocess.run([sys.executable, "-c", BARE_FLASK], capture_output=True, text=True, check=True)
    bare_time = bare.stdout.strip()
    print(f"{done.stdout.strip()}; the whole cold process {took:.2f} s; a bare Flask app imports in {bare_time} s")
    return []


_AWS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}


def _provision(stage_env: dict[str, str], aws: dict[str, str]) -> None:
    """The stage's table and bucket, and its secret in Parameter Store, as `make deploy` leaves them."""
    import boto3

    from gallery.config import Settings
    from gallery.storage.aws.provision import provision

    os.environ.update(aws)
    settings = Settings.from_env({**stage_env, **aws})
    provision(settings)
    ssm = boto3.client("ssm", endpoint_url=aws["AWS_ENDPOINT_URL"], region_name=aws["AWS_DEFAULT_REGION"])
    ssm.put_parameter(
        Name=settings.secrets_path + "GALLERY_JWT_SECRET",
        Value="a-cold-start-secret-of-48-random-bytes-00000000",
        Type="SecureString",
    )


if __name__ == "__main__":
    arguments = sys.argv[1:]
    main(Path(arguments[-1]), publisher="--publisher" in arguments)
