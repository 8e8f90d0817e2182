"""The trusted side's end of the wire to one worker: deadlines both ways, bounded replies.

Student code runs in the worker's process, so it can replace the worker's own
frame reader, stop reading, write garbage or hold the pipe open forever. The
trusted side therefore never blocks: both pipes are non-blocking, every write
and every read waits in ``select`` for at most the time left before the
caller's deadline, and a reply is refused before it is read whole when its
declared size, or the size of its structured part, is over the limits. Bytes
received are counted, so a session can bound what one submission makes the
grader keep in memory.
"""
from __future__ import annotations

import os
import select
import time

from autograder.limits import size_text
from autograder.worker import codec

POLL_SECONDS = 0.25  # how often a wait wakes up to run the caller's watchdog
NOT_DATA = "your code returned something that is not plain data (numbers, arrays, lists, dicts)"


class ChannelTimeout(Exception):
    """The deadline passed before a frame was sent or received whole."""


class ChannelClosed(Exception):
    """The worker closed its end (it exited or crashed)."""


class ChannelRefused(Exception):
    """The worker sent a frame over the limits or one that is not a valid frame; the message says which."""


class ChannelOverBudget(ChannelRefused):
    """The frame would take the bytes received past the channel's budget."""


class Channel:
    """Frames to a worker's stdin and from its stdout.

    Parameters
    ----------
    write_fd, read_fd : int
        The pipes to the worker's fd 0 and from its fd 1; made non-blocking here.
    limits : autograder.limits.Limits
        ``reply_bytes`` and ``reply_header_bytes`` bound one frame.
    watchdog : callable, optional
        Called every ``POLL_SECONDS`` while waiting; may raise to abandon the wait.
    byte_budget : int, optional
        Bytes this channel may receive in all; a frame beyond it is refused unread.
    """

    def __init__(self, write_fd, read_fd, limits, watchdog=None, byte_budget=None):
        self.write_fd, self.read_fd = write_fd, read_fd
        self.limits = limits
        self.byte_budget = limits.received_bytes if byte_budget is None else byte_budget
        self.watchdog = watchdog or (lambda: None)
        self.received_bytes = 0
        self._watched = time.monotonic()
        os.set_blocking(write_fd, False)
        os.set_blocking(read_fd, False)

    def send(self, message, deadline):
        """Write one frame before ``deadline`` (a ``time.monotonic()`` value)."""
        data = memoryview(codec.encode(message))
        while data:
            self._wait(deadline, write=True)
            try:
                written = os.write(self.write_fd, data[:1 << 20])
            except BlockingIOError:
                continue
            except (BrokenPipeError, ConnectionResetError):
                raise ChannelClosed from None
            data = data[written:]

    def receive(self, deadline):
        """Read one frame before ``deadline`` and decode it."""
        limits = self.limits
        (length,) = codec._LENGTH.unpack(self._read(codec._LENGTH.size, deadline))
        if length > limits.reply_bytes + limits.reply_header_bytes:
            raise ChannelRefused(f"your code returned more data than the grader accepts from one call "
                                 f"({size_text(limits.reply_bytes)})")
        if self.received_bytes + length > self.byte_budget:
            raise ChannelOverBudget(f"your code sent back more data than the grader accepts for one submission "
                                 f"({size_text(limits.received_bytes)} in all)")
        if length < codec._HEADER.size:
            raise ChannelRefused(NOT_DATA)
        head = self._read(codec._HEADER.size, deadline)
        (header_size,) = codec._HEADER.unpack(head)
        if header_size > min(limits.reply_header_bytes, length - codec._HEADER.size):
            raise ChannelRefused(f"your code returned more nested lists, dicts or numbers than the grader accepts "
                                 f"from one call ({size_text(limits.reply_header_bytes)}); return numpy arrays")
        payload = head + self._read(length - codec._HEADER.size, deadline)
        self.received_bytes += codec._LENGTH.size + length
        try:
            return codec.decode(payload)
        except (codec.CodecError, RecursionError, MemoryError):
            raise ChannelRefused(NOT_DATA) from None

    def _read(self, size, deadline):
        chunks, remaining = [], size
        while remaining:
            self._wait(deadline, write=False)
            try:
                chunk = os.read(self.read_fd, min(remaining, 1 << 20))
            except BlockingIOError:
                continue
            if not chunk:
                raise ChannelClosed
            chunks.append(chunk)
            remaining -= len(chunk)
        return b"".join(chunks)

    def _wait(self, deadline, write):
        fd = self.write_fd if write else self.read_fd
        while True:
            now = time.monotonic()
            if now - self._watched >= POLL_SECONDS:  # also while data trickles in
                self._watched = now
                self.watchdog()
            left = deadline - now
            if left <= 0:
                raise ChannelTimeout
            readable, writable, _ = select.select([] if write else [fd], [fd] if write else [], [],
                                                  min(left, POLL_SECONDS))
            if readable or writable:
                return
