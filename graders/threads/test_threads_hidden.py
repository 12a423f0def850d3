"""More checks of exercises/threads, kept out of students' repositories: they run in Classroom CI only."""

import pytest

from graders.threads import probes

pytestmark = pytest.mark.hidden


@pytest.mark.task(1)
def test_start_and_join_with_a_single_thread(student):
    seen = student.run(probes.start_and_join_trace, count=1, nap=0.05)
    assert seen["indexes"] == [0] and seen["done_at_return"] == 1, (
        f"start_and_join(target, 1) should run target(0) once and wait for it; it ran {seen['indexes']} "
        f"and {seen['done_at_return']} had finished when it returned"
    )


@pytest.mark.task(2)
def test_counter_loses_nothing_with_many_threads_and_few_increments(student):
    total = student.run(probes.hammer_counter, threads=12, increments=20)
    assert total == 240, f"12 threads added 20 each; your counter ended at {total}: {240 - total} updates were lost"
