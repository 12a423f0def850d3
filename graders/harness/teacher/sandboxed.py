"""Loaded (`-p graders.harness.teacher.sandboxed`) into a submission's pytest run when the class is graded in
sandboxes: the folder a check gives the student's code (its `tmp_path`, the worker's working directory) is
handed to the submission's uid, and the folders above it are made traversable. Every other folder of the
grader's stays root's own (mode 0700)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def _the_submission_owns_its_check_folder(tmp_path: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    uid = int(os.environ["GRADE_SANDBOX_UID"])
    base = tmp_path_factory.getbasetemp()
    for folder in [tmp_path.parent, *tmp_path.parent.parents]:
        if not folder.is_relative_to(base):
            break
        folder.chmod(0o711)
    os.chown(tmp_path, uid, uid)
