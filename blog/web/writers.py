"""How many public POSTs may be written at once, across the worker processes.

Readers first: a cached page costs a fraction of a millisecond, a stored
comment ten. When every worker is busy writing, readers wait behind writers,
so at most WRITE_SLOTS public POSTs run at once and the rest are answered at
once with 503 and the form, by the guard in ``postguard``. The slots are files
locked with ``flock``: every worker process of one server sees the same locks,
and the kernel releases a dead worker's lock with the process.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import tempfile
import threading
import weakref
from dataclasses import dataclass


@dataclass
class _Slot:
    fd: int
    in_process: threading.Lock  # flock does not tell apart threads of one process


class WriteSlots:
    """``count`` slots kept as lock files in ``directory``."""

    def __init__(self, count: int, directory: str | None = None) -> None:
        self.count = count
        # Made in the process that builds the app: under gunicorn's preload the
        # master, so every worker forked from it locks the same files.
        made = directory is None
        self.directory = directory or tempfile.mkdtemp(prefix="blog-write-slots-")
        self._slots: list[_Slot] = []
        self._pid: int | None = None
        self._lock = threading.Lock()
        self._fds: list[int] = []
        weakref.finalize(
            self, _clean_up, self._fds, self.directory if made else None, os.getpid()
        )

    def try_acquire(self) -> _Slot | None:
        """A free slot, now held by this request, or None when all are taken."""
        for slot in self._process_slots():
            if not slot.in_process.acquire(blocking=False):
                continue
            try:
                fcntl.flock(slot.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                slot.in_process.release()
                continue
            return slot
        return None

    def release(self, slot: _Slot) -> None:
        """Give ``slot`` back."""
        fcntl.flock(slot.fd, fcntl.LOCK_UN)
        slot.in_process.release()

    def _process_slots(self) -> list[_Slot]:
        # Files opened before a fork would share their locks with the parent's:
        # each process opens its own.
        if self._pid != os.getpid():
            with self._lock:
                if self._pid != os.getpid():
                    self._fds[:] = [
                        os.open(
                            os.path.join(self.directory, f"slot-{n}"),
                            os.O_RDWR | os.O_CREAT | os.O_CLOEXEC,
                            0o600,
                        )
                        for n in range(self.count)
                    ]
                    self._slots = [_Slot(fd, threading.Lock()) for fd in self._fds]
                    self._pid = os.getpid()
        return self._slots


def _clean_up(fds: list[int], made_directory: str | None, maker_pid: int) -> None:
    # Only the process that made the directory removes it: a worker recycled by
    # gunicorn must not take the lock files from the others.
    if os.getpid() != maker_pid:
        return
    for fd in fds:
        os.close(fd)
    if made_directory:
        shutil.rmtree(made_directory, ignore_errors=True)
