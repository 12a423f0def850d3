"""More checks of exercises/threads, kept out of students' repositories: they run in Classroom CI only."""

import random

import pytest

from graders.threads.test_threads import _check_start_and_join, _hammer

pytestmark = pytest.mark.hidden


@pytest.mark.task(1)
def test_start_and_join_with_a_single_thread(student):
    _check_start_and_join(student, 1)


@pytest.mark.task(2)
def test_counter_loses_nothing_with_many_threads_and_few_increments(student):
    _hammer(student, random.sample(range(10, 40), 12))
