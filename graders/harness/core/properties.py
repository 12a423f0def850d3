"""Settings for property graders (hypothesis), the same in every topic.

A property grader sends one batch of generated inputs to the worker in a single call and compares the
answers in the grader. Its verdict must never change between runs: generation is derandomized, nothing is
remembered between runs, and no shrinking (the grader names the shortest wrong case itself).
"""

from __future__ import annotations

from hypothesis import HealthCheck, Phase, settings


def deterministic(examples: int) -> settings:
    """`examples` batches, the same ones on every run and every machine."""
    return settings(
        derandomize=True,
        database=None,
        max_examples=examples,
        deadline=None,
        phases=(Phase.explicit, Phase.generate),
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
