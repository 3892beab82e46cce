"""The site publisher on AWS: its Lambda handler, in a process of its own as in a Lambda container, driven by the
DynamoDB stream records that real writes to the table produce (read back from the stream), against moto over HTTP
(DynamoDB and its stream, S3, CloudFront). Each change publishes exactly what it changed."""

from __future__ import annotations

import json
import re
import shutil
import time
import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from gallery.config import SETTINGS, Settings
from gallery.demo import as_principal
from gallery.domain.model import Authority, ImageInfo, Scope
from gallery.services.images import InfoChange
from gallery.site.render import original_path
from gallery.storage.aws import keys
from gallery.storage.aws.site_bucket import MANIFEST
from gallery.storage.aws.table import dump_key
from gallery.wiring import Gallery
from tests.conftest import JWT_SECRET
from tests.helpers import png
from tests.moto_http import moto_subprocess
from tests.storage_fixtures import AWS_ENV, aws_session, distribution, invalidations
from tests.test_api_lambda import Container, zappa_settings_module

STAGE = "dev_publisher"
FAILURES = "image-gallery-dev-publisher-failures"
INDEX_FILES = {"index.html", "search/0.json", "gallery-version.json"}  # what any change to the list rewrites


class World:
    """A provisioned table and bucket, a site bucket and a CloudFront distribution on a moto server; the gallery
    writing to them; the table's stream read from where the last read stopped."""

    def __init__(self, endpoint: str, tmp: Path) -> None:
        self.endpoint = endpoint
        name = f"p{uuid.uuid4().hex[:12]}"
        self.overrides = {
            "backend": "aws",
            "table": name,
            "bucket": name + "-bytes",
            "site_bucket": name + "-site",
            "aws_endpoint_url": endpoint,
        }
        self.settings = Settings.from_env(
            {"GALLERY_JWT_SECRET": JWT_SECRET, "GALLERY_DATA_DIR": str(tmp / "data")}, **self.overrides
        )
        from gallery.storage.aws.provision import provision

        lines = provision(self.settings)
        self.stream_arn = next(re.search(r"stream (\S+)", line).group(1) for line in lines if "stream" in line)  # type: ignore[union-attr]
        session = aws_session()
        self.s3 = session.client("s3", endpoint_url=endpoint, region_name="us-east-1")
        self.s3.create_bucket(Bucket=self.settings.site_bucket)
        self.cloudfront = session.client("cloudfront", endpoint_url=endpoint, region_name="us-east-1")
        self.distribution = distribution(self.cloudfront, self.overrides["table"])
        self.streams = session.client("dynamodbstreams", endpoint_url=endpoint, region_name="us-east-1")
        shard = self.streams.describe_stream(StreamArn=self.stream_arn)["StreamDescription"]["Shards"][0]["ShardId"]
        self.shard = shard
        self.iterator = self.streams.get_shard_iterator(
            StreamArn=self.stream_arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        # The failure queue, named as the stack names it (the role allows it by name), emptied of earlier tests'.
        self.sqs = session.client("sqs", endpoint_url=endpoint, region_name="us-east-1")
        self.queue = self.sqs.create_queue(QueueName=FAILURES)["QueueUrl"]
        while found := self.sqs.receive_message(QueueUrl=self.queue, MaxNumberOfMessages=10).get("Messages"):
            for message in found:
                self.sqs.delete_message(QueueUrl=self.queue, ReceiptHandle=message["ReceiptHandle"])
        self.gallery = Gallery.open(self.settings)
        accounts = self.gallery.accounts
        self.tenant = accounts.create_tenant("Published")
        admin = accounts.create_user("admin@publisher.example", "a-password", Authority.TENANT_ADMIN, self.tenant.id)
        self.admin = as_principal(admin)
        by_field = {setting.field: setting.env for setting in SETTINGS}
        self.env = {
            "PATH": "/usr/bin:/bin",
            "HOME": str(tmp),
            "TMPDIR": str(tmp / "lambda-tmp"),
            "GALLERY_JWT_SECRET": JWT_SECRET,
            **AWS_ENV,
            **{by_field[k]: v for k, v in self.overrides.items()},
            "GALLERY_SITE_TENANT": "Published",
            "GALLERY_SITE_DISTRIBUTION": self.distribution,
            "GALLERY_PUBLISHER_FAILURES": FAILURES,
            "GALLERY_IAM_LEDGER": str(tmp / "aws-calls.jsonl"),  # every call the function makes, for its role
        }
        (tmp / "lambda-tmp").mkdir()
        self.settings_dir = tmp / "task"
        self.settings_dir.mkdir()
        (self.settings_dir / "zappa_settings.py").write_text(zappa_settings_module(STAGE))

    def records(self) -> list[dict[str, Any]]:
        """The stream's records since the last call, as Lambda hands them to a function (with their source)."""
        found = self.streams.get_records(ShardIterator=self.iterator)
        self.iterator = found["NextShardIterator"]
        return [
            {**record, "eventSourceARN": self.stream_arn}
            for record in json.loads(json.dumps(found["Records"], default=str))
        ]

    def site(self) -> dict[str, bytes]:
        listed = self.s3.list_objects_v2(Bucket=self.settings.site_bucket).get("Contents", [])
        return {
            o["Key"]: self.s3.get_object(Bucket=self.settings.site_bucket, Key=o["Key"])["Body"].read()
            for o in listed
            if o["Key"] != MANIFEST
        }

    def site_item(self, expression: str, values: dict[str, Any]) -> None:
        """Change the published site's state item (`site_state.SiteHead`) as time or a failed run would."""
        client = self.gallery.storage.catalog.table.client  # type: ignore[attr-defined]
        found = client.scan(
            TableName=self.settings.table,
            FilterExpression="begins_with(pk, :w) AND sk = :s",
            ExpressionAttributeValues={":w": {"S": "W#"}, ":s": {"S": "SITE"}},
        )["Items"]
        assert len(found) == 1, found
        key = {"pk": found[0]["pk"], "sk": found[0]["sk"]}
        client.update_item(
            TableName=self.settings.table, Key=key, UpdateExpression=expression, ExpressionAttributeValues=values
        )

    def invalidated(self) -> list[list[str]]:
        return invalidations(self.cloudfront, self.distribution)

    def upload(self, name: str, title: str) -> ImageInfo:
        """A picture of its own (the same bytes twice would share their renditions)."""
        self.uploads = getattr(self, "uploads", 0) + 1
        colour = (40 * self.uploads % 256, 90, 200)
        return self.gallery.images.upload(self.admin, name, png(600 + self.uploads, 400, colour), title, None)


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    """A moto server of its own: this pytest process also runs in-process `mock_aws` tests."""
    with pytest.MonkeyPatch.context() as patch, moto_subprocess() as url:
        for name, value in AWS_ENV.items():
            patch.setenv(name, value)
        yield url


@pytest.fixture
def world(endpoint: str, tmp_path: Path) -> Iterator[World]:
    made = World(endpoint, tmp_path)
    yield made
    made.gallery.close()
    from tests.iam_ledger import assert_role_allows

    ledger = Path(made.env["GALLERY_IAM_LEDGER"])
    if ledger.exists() and ledger.stat().st_size:  # what the publisher did, held against the role it is given
        assert_role_allows(
            ledger,
            "PublisherRole",
            {"Table": made.settings.table, "DataBucket": made.settings.bucket, "SiteBucket": made.settings.site_bucket},
        )


@pytest.fixture
def lambda_container(world: World) -> Iterator[Container]:
    running = Container(world.settings_dir, world.env)
    yield running
    running.close()


def on_stream(container: Container, records: list[dict[str, Any]]) -> dict[str, Any]:
    result = container.invoke({"Records": records}, publisher=True)
    assert result is not None
    return result


def test_each_change_publishes_exactly_what_it_changed(world: World, lambda_container: Container) -> None:
    first = world.upload("first.png", "First")
    world.upload("second.png", "Second")
    done = on_stream(lambda_container, world.records())
    assert done["error"] is None, done
    assert done["rendered"] == 2
    site = world.site()
    assert "First" in site["index.html"].decode()
    assert {f"images/{first.id}/index.html", original_path(first)} <= set(site)

    # one upload: the new image's objects, the index and the newest shard of the search index; one rendering
    before = world.site()
    third = world.upload("third.png", "Third")
    batch = world.records()
    done = on_stream(lambda_container, batch)
    assert done["rendered"] == 1, (done, [r.get("eventName") for r in batch])
    after = world.site()
    # two pages rendered, whatever the site's size: the image's own and the index's first page
    assert done["pages"] == 2, done
    new = set(after) - set(before)
    assert {f"images/{third.id}/index.html", original_path(third)} <= new
    assert {k.split("/")[0] for k in new} == {"images", "originals", "r"}
    changed = {k for k in before if after.get(k) != before[k]}
    assert changed == INDEX_FILES
    assert set(done["uploaded"]) == new | changed
    assert done["deleted"] == []
    assert done["invalidated"] == []  # pages are `no-cache`; new files were never on the CDN

    # the same batch again (Lambda retries): nothing changes
    again = on_stream(lambda_container, batch)
    assert (again["rendered"], again["uploaded"], again["deleted"], again["invalidated"]) == (0, [], [], [])
    assert world.site() == after

    # a rename renders nothing: its page and the index change, no image file
    world.gallery.images.update_info(world.admin, Scope.TENANT, "first.png", InfoChange(title="First, renamed"))
    done = on_stream(lambda_container, world.records())
    assert done["rendered"] == 0
    assert set(done["uploaded"]) == {f"images/{first.id}/index.html"} | INDEX_FILES
    assert done["deleted"] == []
    assert not [p for p in done["invalidated"] if p.startswith(("/r/", "/originals/"))]

    # a delete takes every object of the image away; its content-named files are invalidated, a wildcard each
    before = world.site()
    world.gallery.images.delete(world.admin, Scope.TENANT, "third.png", force=True)
    done = on_stream(lambda_container, world.records())
    gone = set(before) - set(world.site())
    assert gone == set(done["deleted"])
    assert {f"images/{third.id}/index.html", original_path(third)} <= gone
    assert any(k.startswith("r/") for k in gone)
    assert set(done["uploaded"]) == INDEX_FILES
    # a deleted original must not outlive its image on the CDN: its renditions and originals, by their content
    paths = done["invalidated"]
    assert len(paths) == 2, paths  # one wildcard for its renditions, one for its originals
    assert all(path.startswith(("/r/", "/originals/")) and path.endswith("*") for path in paths), paths
    hashed = {key for key in gone if key.startswith(("r/", "originals/"))}
    assert {key for key in hashed for path in paths if key.startswith(path[1:-1])} == hashed
    assert not [key for key in world.site() for path in paths if key.startswith(path[1:-1])]  # nothing kept told
    assert sorted(done["invalidated"]) in [sorted(paths) for paths in world.invalidated()]  # asked of CloudFront


def test_a_cold_container_renders_nothing_that_is_published(world: World, endpoint: str) -> None:
    """Lambda's disk starts empty, and a run keeps nothing there: what is published, the site's state says, so a
    new container renders only what is new."""
    world.upload("one.png", "One")
    first = Container(world.settings_dir, world.env)
    try:
        assert on_stream(first, world.records())["rendered"] == 1
    finally:
        first.close()
    # a run leaves nothing in the container's /tmp (what is published, the site's state says)
    assert [p.name for p in Path(world.env["TMPDIR"]).iterdir() if p.name.startswith("gallery-")] == []
    for leftover in Path(world.env["TMPDIR"]).iterdir():  # a new container: nothing kept on disk
        shutil.rmtree(leftover)
    world.upload("two.png", "Two")
    cold = Container(world.settings_dir, world.env)
    try:
        done = on_stream(cold, world.records())
    finally:
        cold.close()
    assert done["rendered"] == 1  # "two" only
    assert "One" in world.site()["index.html"].decode()


def test_records_the_site_does_not_show_change_nothing(world: World, lambda_container: Container) -> None:
    world.upload("shown.png", "Shown")
    on_stream(lambda_container, world.records())
    other = world.gallery.accounts.create_tenant("Someone else")
    someone = world.gallery.accounts.create_user("b@publisher.example", "b-password", Authority.TENANT_ADMIN, other.id)
    world.gallery.images.upload(as_principal(someone), "theirs.png", png(30, 30), "Theirs", None)
    world.gallery.sessions.login("admin@publisher.example", "a-password", "127.0.0.1")
    done = on_stream(lambda_container, world.records())
    assert done["uploaded"] == []
    assert "none of them shown" in done["reason"] or done["reason"] == "no change a site shows"
    assert "Theirs" not in world.site()["index.html"].decode()


def test_a_private_image_and_what_a_build_learnt_cost_no_rebuild(world: World, lambda_container: Container) -> None:
    """The stream carries the image before and after: a change no site can show wakes the publisher for nothing."""
    shown = world.upload("shown.png", "Shown")
    world.upload("hidden.png", "Hidden")
    on_stream(lambda_container, world.records())
    world.gallery.images.set_public(world.admin, Scope.TENANT, "hidden.png", False)  # leaves the site: a rebuild
    done = on_stream(lambda_container, world.records())
    assert any(key.startswith("images/") for key in done["deleted"]), done
    world.gallery.images.update_info(world.admin, Scope.TENANT, "hidden.png", InfoChange(title="Still hidden"))
    catalog = world.gallery.storage.catalog
    catalog.table.client.update_item(  # type: ignore[attr-defined]
        TableName=world.settings.table,
        Key=dump_key(keys.image(world.tenant.id, "shown.png")),
        UpdateExpression="REMOVE has_alpha",  # a row from before it was kept...
    )
    assert catalog.learn_has_alpha(replace(shown, has_alpha=None), False)  # ...and a build recording what it learnt
    done = on_stream(lambda_container, world.records())
    assert done["reason"] == "no change a site shows", done
    assert (done["rendered"], done["uploaded"], done["deleted"]) == (0, [], [])
    world.gallery.images.set_public(world.admin, Scope.TENANT, "hidden.png", True)  # back on the site
    done = on_stream(lambda_container, world.records())
    assert done["uploaded"], done
    assert "Still hidden" in world.site()["index.html"].decode()


def test_a_poison_record_is_reported_and_skipped(world: World, lambda_container: Container) -> None:
    world.upload("good.png", "Good")
    records = world.records()
    poison = {
        "eventID": "broken-1",
        "eventName": "MODIFY",
        "dynamodb": {"Keys": "not keys"},
        "eventSourceARN": world.stream_arn,
    }
    done = on_stream(lambda_container, [*records, poison, {"eventSourceARN": world.stream_arn}])
    assert done["error"] is None
    assert len(done["skippedRecords"]) == 2
    assert "broken-1" in done["skippedRecords"][0]
    assert "Good" in world.site()["index.html"].decode()


SCHEDULED = {"detail-type": "Scheduled Event", "source": "aws.events", "detail": {}}  # as EventBridge sends it


def test_the_daily_pass_heals_what_a_lost_event_missed(world: World, lambda_container: Container) -> None:
    world.upload("kept.png", "Kept")
    on_stream(lambda_container, world.records())
    world.s3.delete_object(Bucket=world.settings.site_bucket, Key="search/0.json")  # lost, somehow
    world.upload("missed.png", "Missed")
    world.records()  # the batch never reaches the function
    done = lambda_container.invoke(SCHEDULED, publisher=True)
    assert done["reason"] == "scheduled reconciliation: what waited"  # within the day: nothing waits
    assert (done["uploaded"], done["pages"]) == ([], 0)
    world.site_item("SET full_at = :t", {":t": {"N": str(int(time.time()) - 24 * 3600)}})  # a day later
    done = lambda_container.invoke(SCHEDULED, publisher=True)
    assert done["reason"] == "scheduled reconciliation: full pass"
    assert "search/0.json" in done["uploaded"]
    site = world.site()
    assert "Missed" in site["index.html"].decode()
    assert b"Kept" in site["search/0.json"]
    assert b"Missed" in site["search/0.json"]


def test_the_hourly_run_publishes_the_batches_lambda_gave_up_on(world: World, lambda_container: Container) -> None:
    """After its retries, the stream mapping notes a batch in the failure queue (as below, in Lambda's words);
    the hourly run reads the records back from the stream, publishes them and takes the note off."""
    world.upload("one.png", "One")
    on_stream(lambda_container, world.records())
    lost = world.upload("lost.png", "Lost")
    records = world.records()  # delivered, failed, retried, given up on
    note = {
        "requestContext": {"condition": "RetryAttemptsExhausted", "approximateInvokeCount": 6},
        "version": "1.0",
        "DDBStreamBatchInfo": {
            "shardId": world.shard,
            "startSequenceNumber": records[0]["dynamodb"]["SequenceNumber"],
            "endSequenceNumber": records[-1]["dynamodb"]["SequenceNumber"],
            "batchSize": len(records),
            "streamArn": world.stream_arn,
        },
    }
    world.sqs.send_message(QueueUrl=world.queue, MessageBody=json.dumps(note))
    world.sqs.send_message(QueueUrl=world.queue, MessageBody="not a note")  # reported, taken off
    done = lambda_container.invoke(SCHEDULED, publisher=True)
    assert done["error"] is None, done
    assert done["keys"] == 1
    assert f"images/{lost.id}/index.html" in done["uploaded"]
    assert "Lost" in world.site()["index.html"].decode()
    assert "Messages" not in world.sqs.receive_message(QueueUrl=world.queue, WaitTimeSeconds=0)


def test_the_hourly_run_publishes_what_a_failed_run_left(world: World, lambda_container: Container) -> None:
    """A key whose change could not be published, pages a stopped run left to render, and the wildcard an hour of
    many deletes left owed to the CDN wait in the site's state: the hourly run does them, and only them."""
    world.upload("one.png", "One")
    on_stream(lambda_container, world.records())
    late = world.upload("late.png", "Late")
    world.records()  # its batch failed: the key waits (as `publish_keys` leaves it)
    world.site_item("ADD x :k", {":k": {"SS": ["late.png"]}})
    world.site_item("SET io = :t, iw = :h", {":t": {"BOOL": True}, ":h": {"N": str(int(time.time()) // 3600 - 1)}})
    done = lambda_container.invoke(SCHEDULED, publisher=True)
    assert done["reason"] == "scheduled reconciliation: what waited", done
    assert {f"images/{late.id}/index.html", original_path(late), *INDEX_FILES} <= set(done["uploaded"])
    assert done["pages"] == 2
    assert "Late" in world.site()["index.html"].decode()
    assert done["invalidated"] == ["/*"]
    assert ["/*"] in world.invalidated()
    again = lambda_container.invoke(SCHEDULED, publisher=True)  # done: nothing waits any more
    assert (again["uploaded"], again["pages"], again["invalidated"]) == ([], 0, [])


def test_an_event_it_does_not_know_fails_the_invocation(world: World, lambda_container: Container) -> None:
    """Zappa's own handler answered an unmapped event with "Cannot find a function", which Lambda counts as a
    success: the batch was dropped unseen. Ours fails the invocation, so Lambda retries it and then sends it to
    the mapping's failure queue."""
    done = lambda_container.invoke({"Sns": "something"}, publisher=True)
    assert done["errorType"] == "UnknownEvent"
    assert "Neither a stream batch nor the schedule" in done["errorMessage"]
