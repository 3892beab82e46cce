"""`python -m benchmarks` (or `make bench`): runs every benchmark and prints ratios against its baseline."""

from __future__ import annotations

import sys

from benchmarks import (
    archive,
    aws_scale,
    decode_costs,
    default_build,
    list_scale,
    live_site,
    load,
    page_weight,
    preview,
    rebuild_scale,
    rendition_quality,
    revalidate,
    startup,
    static_build,
    upload_memory,
)


def main() -> int:
    results = [
        *preview.run(),
        *revalidate.run(),
        *startup.run(),
        *upload_memory.run(),
        *rendition_quality.run(),
        *static_build.run(),
        *default_build.run(),
        *page_weight.run(),
        *live_site.run(),
        *archive.run(),
        *list_scale.run(),
        *rebuild_scale.run(),
        *aws_scale.run(),  # in what AWS bills: read units, S3 requests and bytes, invalidation paths
    ]
    for result in results:
        print(result.line())
    for name, bill in aws_scale.operation_bills().items():
        print(f"DynamoDB, one {name:<44} {bill.read_units:5.1f} RCU  {bill.write_units:5.1f} WCU")
    loaded = load.main()  # prints its own report: throughput, latencies, and any broken invariant
    decode_costs.main([])  # prints its own table: each hostile layout before and after, beside a legitimate file
    return 0 if all(r.ok for r in results) and loaded == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
