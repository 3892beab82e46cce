"""Side-by-side timing: ours and a baseline alternate round by round, so machine noise hits both alike."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Comparison:
    name: str
    ours: float  # median seconds per call (or per batch), ours
    baseline: float  # the same for the baseline
    limit: float  # the ratio we promise: ours/baseline <= limit (time) or >= limit (throughput)
    higher_is_better: bool = False
    unit: str | None = None  # default: seconds, or per second when higher is better

    @property
    def ratio(self) -> float:
        return self.ours / self.baseline

    @property
    def ok(self) -> bool:
        return self.ratio >= self.limit if self.higher_is_better else self.ratio <= self.limit

    def line(self) -> str:
        sign = ">=" if self.higher_is_better else "<="
        unit = self.unit or ("/s" if self.higher_is_better else " s")
        verdict = "ok" if self.ok else "MISSED"
        return (
            f"{self.name:<48} ours {self.ours:10.4g}{unit}  baseline {self.baseline:10.4g}{unit}  "
            f"ratio {self.ratio:5.2f} (want {sign} {self.limit})  {verdict}"
        )


def compare_times(
    name: str, ours: Callable[[], object], baseline: Callable[[], object], *, limit: float, rounds: int = 30
) -> Comparison:
    """Median wall time of `ours` against `baseline`, calls interleaved, after one warm-up call each."""
    ours()
    baseline()
    ours_times: list[float] = []
    base_times: list[float] = []
    for _ in range(rounds):
        for fn, sink in ((ours, ours_times), (baseline, base_times)):
            start = time.perf_counter()
            fn()
            sink.append(time.perf_counter() - start)
    return Comparison(name, statistics.median(ours_times), statistics.median(base_times), limit)
