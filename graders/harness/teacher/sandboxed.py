"""Loaded (`-p graders.harness.teacher.sandboxed`) into a submission's pytest run when the class is graded in
sandboxes.

- The run is in a network namespace of its own (`unshare --net`): its loopback is brought up, and each service
  the topics need is put on it behind a guard (services/guard.py) that keeps student code to its scratch
  spaces. The real servers' URLs (GRADE_GUARDED_URLS) are read once and replaced by the guards' URLs.
- The folder a check gives the student's code (its `tmp_path`, the worker's working directory) is handed to
  the submission's uid, and the folders above it are made traversable. Every other folder of the grader's
  stays root's own (mode 0700).
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import struct
from pathlib import Path

import pytest

from graders.harness.services import SERVICES, guard

SIOCGIFFLAGS, SIOCSIFFLAGS, IFF_UP = 0x8913, 0x8914, 0x1


def loopback_up() -> None:
    """`ip link set lo up`, without needing iproute2: a new network namespace starts with it down."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        request = struct.pack("16sH22x", b"lo", 0)
        flags = struct.unpack("16sH22x", fcntl.ioctl(sock, SIOCGIFFLAGS, request))[1]
        fcntl.ioctl(sock, SIOCSIFFLAGS, struct.pack("16sH22x", b"lo", flags | IFF_UP))


def pytest_configure(config: pytest.Config) -> None:
    if "GRADE_HOST_NETNS_FD" not in os.environ:
        return
    loopback_up()
    network = guard.HostNetwork(int(os.environ["GRADE_HOST_NETNS_FD"]))
    for name, url in json.loads(os.environ.pop("GRADE_GUARDED_URLS", "{}")).items():
        os.environ[SERVICES[name].env] = guard.Guard(name, url, network).url


@pytest.fixture(autouse=True)
def _the_submission_owns_its_check_folder(tmp_path: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    uid = int(os.environ["GRADE_SANDBOX_UID"])
    base = tmp_path_factory.getbasetemp()
    for folder in [tmp_path.parent, *tmp_path.parent.parents]:
        if not folder.is_relative_to(base):
            break
        folder.chmod(0o711)
    os.chown(tmp_path, uid, uid)
