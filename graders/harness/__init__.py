"""The grading harness: a pytest plugin and the tools around it.

Folders, from the bottom up; a folder imports only from folders above it in this list:

- `core/`      what every grade rests on: the course manifest, the result model, the worker that runs
               student code and the handle the grader holds on it, what probes use inside the worker.
- `services/`  MySQL, Redis and MongoDB: where each comes from (one rule) and a scratch space per test.
- `sql/`       SQL topics: named statements run as the student's database user, judged by rows or state.
- `views/`     the one result model rendered: the terminal, GitHub, Classroom, Gradescope, exercism.
- `loop/`      the student's loop around checks: watch, hint, progress.
- `teacher/`   the teacher's tools: export the students' repository, grade a class.

`plugin.py` is the composition root: the only module that wires core, services and views into pytest.
Nothing imports it.
"""
