"""The stream batches Lambda gave up on, read back: after its retries, the event source mapping notes each batch
it could not deliver in the publisher's failure queue (`deploy/stack.yaml`: which shard, from which sequence number
to which), and the stream keeps the records themselves for 24 hours. The hourly run reads them back from there and
publishes what they changed, so a lost batch is on the site within the hour, not at the next daily pass.

A note whose records the stream no longer holds (past 24 hours), or that is not a note of a stream batch, is
reported and taken off the queue: the daily pass brings its changes in anyway.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from typing import Any

from gallery.config import Settings
from gallery.domain import errors
from gallery.storage.aws.clients import sqs_client, streams_client
from gallery.storage.aws.errors import translated

log = logging.getLogger("gallery.publisher")

MOST = 10  # notes read a run (one ReceiveMessage): a backlog is read over the next runs
VISIBLE_AGAIN = 900  # seconds before a note read but not taken off is read again (a run that stopped)


@dataclass
class GivenUp:
    """One note of the queue, and the records it names (none when they cannot be read any more)."""

    receipt: str
    records: list[dict[str, Any]] = field(default_factory=list)
    why_not: str | None = None


class FailureQueue:
    def __init__(self, settings: Settings) -> None:
        self.sqs = sqs_client(settings)
        self.streams = streams_client(settings)
        with translated():
            self.url = self.sqs.get_queue_url(QueueName=settings.publisher_failures)["QueueUrl"]

    def batches(self) -> list[GivenUp]:
        with translated():
            found = self.sqs.receive_message(
                QueueUrl=self.url, MaxNumberOfMessages=MOST, VisibilityTimeout=VISIBLE_AGAIN, WaitTimeSeconds=0
            )
        return [self._read(message.get("Body", ""), message["ReceiptHandle"]) for message in found.get("Messages", [])]

    def done(self, batch: GivenUp) -> None:
        with translated():
            self.sqs.delete_message(QueueUrl=self.url, ReceiptHandle=batch.receipt)

    def _read(self, body: str, receipt: str) -> GivenUp:
        try:
            info = json.loads(body)["DDBStreamBatchInfo"]
            stream, shard = str(info["streamArn"]), str(info["shardId"])
            first, last = int(info["startSequenceNumber"]), int(info["endSequenceNumber"])
        except (ValueError, KeyError, TypeError):
            return GivenUp(receipt, why_not="not a note of a stream batch")
        try:
            with translated({"TrimmedDataAccessException": errors.NotFound("past the stream's 24 hours")}):
                iterator: str | None = self.streams.get_shard_iterator(
                    StreamArn=stream, ShardId=shard, ShardIteratorType="AT_SEQUENCE_NUMBER", SequenceNumber=str(first)
                )["ShardIterator"]
                records: list[dict[str, Any]] = []
                while iterator:
                    page = self.streams.get_records(ShardIterator=iterator, Limit=1000)
                    taken = [r for r in page.get("Records", []) if int(r["dynamodb"]["SequenceNumber"]) <= last]
                    records += [{**json.loads(json.dumps(r, default=str)), "eventSourceARN": stream} for r in taken]
                    if len(taken) < len(page.get("Records", [])) or not page.get("Records"):
                        break
                    iterator = page.get("NextShardIterator")
        except (errors.NotFound, errors.ConfigError) as exc:
            return GivenUp(receipt, why_not=exc.message)
        return GivenUp(receipt, records)
