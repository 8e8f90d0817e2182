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

import fcntl
import os
import select
import time

from autograder.limits import size_text
from autograder.worker import codec

POLL_SECONDS = 0.25  # how often a wait wakes up to run the caller's watchdog, at most
_LEAST_WAIT = 0.001  # a watchdog asking to look again at once waits this long: no busy loop
_WRITEV_PARTS = 64  # buffers per writev call, well below the system's limit (IOV_MAX, 1024 on Linux)
_PIPE_BYTES = 1 << 20  # pipe capacity asked for: a large frame crosses in a few system calls, not one per 64 KiB
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
        Called every ``POLL_SECONDS`` while waiting, or sooner if it returns the seconds until it
        wants to look again (or ``look_in`` asks); may raise to abandon the wait.
    byte_budget : int, optional
        Bytes this channel may receive in all; a frame beyond it is refused unread.
    """

    def __init__(self, write_fd, read_fd, limits, watchdog=None, byte_budget=None):
        self.write_fd, self.read_fd = write_fd, read_fd
        self.limits = limits
        self.byte_budget = limits.received_bytes if byte_budget is None else byte_budget
        self.watchdog = watchdog or (lambda: None)
        self.received_bytes = 0
        self._next_look = time.monotonic() + POLL_SECONDS
        os.set_blocking(write_fd, False)
        os.set_blocking(read_fd, False)
        for fd in (write_fd, read_fd):
            _widen_pipe(fd)

    def look_in(self, seconds):
        """Run the watchdog ``seconds`` from now at the latest (a request's first look)."""
        self._next_look = min(self._next_look, time.monotonic() + seconds)

    def send(self, message, deadline):
        """Write one frame before ``deadline`` (a ``time.monotonic()`` value)."""
        parts = [memoryview(part).cast("B") for part in codec.encode_parts(message)]
        parts = [part for part in parts if part.nbytes]
        while parts:
            self._watch(deadline)
            try:  # first, then wait only if the pipe is full: most frames fit at once
                written = os.writev(self.write_fd, parts[:_WRITEV_PARTS])
            except BlockingIOError:
                self._wait(deadline, write=True)
                continue
            except (BrokenPipeError, ConnectionResetError):
                raise ChannelClosed from None
            while written:  # drop what was written: whole parts, then the start of the next
                if written >= parts[0].nbytes:
                    written -= parts.pop(0).nbytes
                else:
                    parts[0], written = parts[0][written:], 0

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
        payload = bytearray(length)  # read in place: the arrays of the reply are views of it
        self._read_into(memoryview(payload)[:codec._HEADER.size], deadline)
        (header_size,) = codec._HEADER.unpack_from(payload)
        if header_size > min(limits.reply_header_bytes, length - codec._HEADER.size):
            raise ChannelRefused(f"your code returned more nested lists, dicts or numbers than the grader accepts "
                                 f"from one call ({size_text(limits.reply_header_bytes)}); return numpy arrays")
        self._read_into(memoryview(payload)[codec._HEADER.size:], deadline)
        self.received_bytes += codec._LENGTH.size + length
        try:
            return codec.decode(payload)
        except (codec.CodecError, RecursionError, MemoryError):
            raise ChannelRefused(NOT_DATA) from None

    def _read(self, size, deadline):
        buffer = bytearray(size)
        self._read_into(memoryview(buffer), deadline)
        return bytes(buffer)

    def _read_into(self, view, deadline):
        while view.nbytes:
            self._watch(deadline)
            try:  # first, then wait only if nothing is there yet: the rest of a frame usually is
                count = os.readv(self.read_fd, [view])
            except BlockingIOError:
                self._wait(deadline, write=False)
                continue
            if not count:
                raise ChannelClosed
            view = view[count:]

    def _watch(self, deadline):
        """The time now; the watchdog runs when it is due (``POLL_SECONDS`` apart at most), also while
        data flows freely.

        Raises
        ------
        ChannelTimeout
            If ``deadline`` has passed: a worker that keeps the pipes moving (a stream of frames)
            is held to it as much as one that makes the grader wait.
        """
        now = time.monotonic()
        if now >= self._next_look:
            self._next_look = now + POLL_SECONDS  # before it runs: a watchdog that raises has looked too
            again = self.watchdog()
            if again is not None:
                self._next_look = now + min(max(again, _LEAST_WAIT), POLL_SECONDS)
        if now >= deadline:
            raise ChannelTimeout
        return now

    def _wait(self, deadline, write):
        fd = self.write_fd if write else self.read_fd
        while True:
            now = self._watch(deadline)
            readable, writable, _ = select.select([] if write else [fd], [fd] if write else [], [],
                                                  max(min(deadline, self._next_look) - now, 0.0))
            if readable or writable:
                return


def _widen_pipe(fd):
    """Ask for a larger pipe buffer (Linux); the system's default stays where it refuses."""
    if hasattr(fcntl, "F_SETPIPE_SZ"):
        try:
            fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, _PIPE_BYTES)
        except OSError:
            pass  # above /proc/sys/fs/pipe-max-size, or not a pipe
