"""Probes for tests/test_boundary.py: call a function of a throw-away student module inside the worker."""

from __future__ import annotations

from typing import Any

from graders.harness.core.probing import student_module


def call(module: str, function: str, *args: Any) -> Any:
    return getattr(student_module(module), function)(*args)
