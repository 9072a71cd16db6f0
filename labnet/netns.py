"""Switch the calling thread into a named network namespace (per thread, in process)."""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from labnet.errors import NetnsError

if TYPE_CHECKING:
    from collections.abc import Iterator

logger = logging.getLogger(__name__)

CLONE_NEWNET = 0x40000000
NETNS_RUN_DIR = Path("/run/netns")
_THREAD_NS = "/proc/thread-self/ns/net"

_libc: ctypes.CDLL | None = None


def _setns(fd: int) -> None:
    """Call setns(2) for the calling thread, raising OSError on failure."""
    global _libc  # noqa: PLW0603 - loaded once, lazily
    if _libc is None:
        _libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
    if _libc.setns(fd, CLONE_NEWNET) != 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))


@contextmanager
def entered(netns: str) -> Iterator[None]:
    """Run the body with the CALLING THREAD inside the named netns, then switch back.

    Network namespaces are per thread: only the thread that enters is moved; other threads
    (and the event loop, if any) stay where they are. Sockets created inside the body stay
    bound to ``netns`` after leaving, and subprocesses spawned from this thread inside the
    body start in ``netns``. ``/proc/sys/net`` opened inside the body is the netns' own.

    Args:
        netns: Name under /run/netns (as created by ``ip netns add``).

    Raises:
        NetnsError: The netns does not exist, setns failed, or switching back failed.
    """
    path = NETNS_RUN_DIR / netns
    try:
        original = os.open(_THREAD_NS, os.O_RDONLY | os.O_CLOEXEC)
    except OSError as exc:
        raise NetnsError(f"cannot open the current netns of this thread: {exc}") from exc
    try:
        try:
            target = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        except OSError as exc:
            raise NetnsError(f"network namespace {netns!r} not found at {path}: {exc}") from exc
        try:
            _setns(target)
        except OSError as exc:
            raise NetnsError(f"cannot enter network namespace {netns!r}: {exc}") from exc
        finally:
            os.close(target)
        try:
            yield
        finally:
            try:
                _setns(original)
            except OSError as exc:  # the thread would be stuck in the lab: make it loud
                logger.critical("thread stuck in netns %s: cannot switch back: %s", netns, exc)
                raise NetnsError(f"cannot switch back from network namespace {netns!r}") from exc
    finally:
        os.close(original)
