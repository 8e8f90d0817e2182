"""Grading processes: at most ``jobs`` submissions at a time, and a dead process costs no other submission."""
from __future__ import annotations

import fcntl
import multiprocessing
import multiprocessing.util
import os
import signal
import sys
import tempfile
from collections import deque
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool

from autograder.errors import RunError


def run_pool(todo, grade, failed, jobs):
    """Yield each submission's result as it is graded, at most ``jobs`` at a time.

    Only ``jobs`` submissions are in the pool at once, so when a pool process
    dies the suspects are known: each is graded again alone in a new pool, and
    one that breaks its pool again, alone, is the cause.

    Parameters
    ----------
    todo : list of SubmissionFolder
    grade : callable
        ``grade(submission)`` -> its ``SubmissionResult``, run in a pool process (picklable).
    failed : callable
        ``failed(submission, exc)`` -> the grader-error ``SubmissionResult``.
    """
    queue, suspects = deque(todo), set()
    # forkserver: pool processes start clean, without the threads of this one.
    context = multiprocessing.get_context("forkserver")
    _fit_the_forkserver_socket()

    def outcome(future, submission):
        """The result, or None when the pool broke under an unsuspected submission (it goes back in the queue)."""
        try:
            return future.result()
        except BrokenProcessPool:
            if submission.folder in suspects:  # it broke a pool of its own: it is the cause
                return failed(submission, RunError(
                    "the grading process died twice while grading this submission alone "
                    "(out of memory, or killed); grade it again, or look at it by hand"))
            suspects.add(submission.folder)
            queue.appendleft(submission)
            return None
        except Exception as exc:  # noqa: BLE001 - the pool could not even run it
            return failed(submission, exc)

    cores = cores_to_pin(jobs)
    while queue:
        lifeline, held = context.Pipe(duplex=False)  # this process holds the only writing end
        started = context.Value("i", 0)  # pool processes that have started: the next one's core
        pool = ProcessPoolExecutor(max_workers=min(jobs, len(queue)), mp_context=context,
                                   initializer=_start_grading_process, initargs=(lifeline, cores, started))
        running, stopped = {}, False
        try:
            while queue or running:
                while queue and len(running) < jobs and not (running and queue[0].folder in suspects) \
                        and not any(s.folder in suspects for s in running.values()):
                    submission = queue.popleft()
                    running[pool.submit(_graded, grade, submission)] = submission
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                broken = any(isinstance(f.exception(), BrokenProcessPool) for f in done)
                if broken:  # every other submission of this pool fails with it: collect them all
                    wait(running)
                    done = list(running)
                for future in done:
                    result = outcome(future, running.pop(future))
                    if result is not None:
                        yield result
                if broken:
                    break
        except BaseException:  # interrupted or stopped: the submissions under way are graded again next run
            stopped = True
            raise
        finally:
            pool.shutdown(wait=not stopped, cancel_futures=True)
            held.close()  # which ends the pool processes still grading, if stopped
            lifeline.close()


# The forkserver listens on a socket in a folder multiprocessing makes in TMPDIR. An AF_UNIX path
# has at most 107 bytes on Linux, so a TMPDIR of over about 75 characters (a cluster job's, a
# build's) cannot hold it. Then it goes to a system folder; Python 3.14 falls back likewise.
_SOCKET_PATH_MAX = 107
_SOCKET_NAME = "listener-xxxxxxxx"  # what multiprocessing names it, in its folder "pymp-xxxxxxxx"
_SHORT_TEMP_FOLDERS = ("/tmp", "/var/tmp", "/dev/shm")


def _fit_the_forkserver_socket():
    """Have multiprocessing's temporary folder, for this process's life, where the forkserver's socket fits.

    Raises
    ------
    RunError
        When no folder with a short enough path can be written.
    """
    def fits(folder, inside=("pymp-xxxxxxxx",)):
        return len(os.fsencode(os.path.join(folder, *inside, _SOCKET_NAME))) <= _SOCKET_PATH_MAX

    parent = tempfile.gettempdir()
    if not fits(parent):
        parent = next((folder for folder in _SHORT_TEMP_FOLDERS
                       if fits(folder) and os.access(folder, os.W_OK | os.X_OK)), parent)
    saved, tempfile.tempdir = tempfile.tempdir, parent
    try:
        folder = multiprocessing.util.get_temp_dir()  # made once, then kept (and removed at exit)
    finally:
        tempfile.tempdir = saved
    if not fits(folder, inside=()):  # no short folder, or multiprocessing's was made before this
        raise RunError(
            f"the grading processes cannot start: their socket does not fit in the temporary folder "
            f"{os.path.dirname(folder)} (a socket's path has at most {_SOCKET_PATH_MAX} bytes); "
            "set TMPDIR to a shorter folder")


_LIFELINE = None  # in a pool process: its own reading end of its grader's lifeline


def cores_to_pin(jobs):
    """The processors to share out among ``jobs`` grading processes, one each in turn; () to leave them be.

    A grading process and its worker take turns, each asleep while the other works, a round trip at
    a time: about 850 of them per submission. On one processor the turn passes without waking
    another one and finds the interpreter's code still in its caches. Measured on 2 cores, 40
    submissions of the benchmark's class with 2 jobs, three runs each way: the grading processes'
    side of the round trips took 25 % less CPU time (6.2 s against 8.2 s), the class about 5 % less
    wall-clock time (55.7-59.7 s against 59.7-62.1 s). Pinned only when every processor gets a
    grading process of its own, or more. With fewer jobs than processors, pinning saves as much
    (one job on 2 cores, 100 submissions: 145-154 s against 158-165 s), but every run would take
    the same first processors: two runs side by side with one job each (two assignments at once)
    took 45 s each for 12 submissions, where one alone takes about 19 s. Left to the kernel, they
    spread (24-25 s each). Grades do not depend on it: the limits are CPU time.
    """
    try:
        cores = sorted(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # macOS: no affinity to set
        return ()
    return tuple(cores) if 1 < len(cores) <= jobs else ()


def _start_grading_process(lifeline, cores, started):
    """Pool-process initializer: take the next of ``cores`` (``cores_to_pin``), and end with the grader."""
    if cores:
        with started.get_lock():
            turn, started.value = started.value, started.value + 1
        try:
            os.sched_setaffinity(0, {cores[turn % len(cores)]})  # its workers inherit it
        except OSError:  # a processor taken away meanwhile (a container's cpuset changed): stay unpinned
            pass
    _end_with_grader(lifeline)


def _end_with_grader(lifeline):
    """End this pool process as soon as its grader is gone (run by ``_start_grading_process``).

    A pool process waits for work on a queue whose writing end it holds too, so once the
    grader is killed (SIGKILL, a scheduler's time limit) it would wait for ever, holding
    the caller's output open. ``lifeline`` is the reading end of a pipe only the grader
    writes to; the kernel signals SIGIO to its owner when the last writer closes it.
    SIGTERM ends it the same way, cleaning up, rather than at once.

    Parameters
    ----------
    lifeline : multiprocessing.connection.Connection
    """
    global _LIFELINE
    # Every pool process received the same open file, which has one owner to signal: each opens its own.
    try:
        _LIFELINE = os.open(f"/proc/self/fd/{lifeline.fileno()}", os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:  # no /proc: such a pool process outlives a killed grader, as before
        return
    finally:
        lifeline.close()
    signal.signal(signal.SIGIO, _check_lifeline)
    signal.signal(signal.SIGTERM, _stop)
    fcntl.fcntl(_LIFELINE, fcntl.F_SETOWN, os.getpid())
    fcntl.fcntl(_LIFELINE, fcntl.F_SETFL, fcntl.fcntl(_LIFELINE, fcntl.F_GETFL) | os.O_ASYNC)
    _check_lifeline()  # the grader may have gone before this process was set to hear of it


def _graded(grade, submission):
    """``grade(submission)`` in a pool process; one whose grader went meanwhile ends once it has cleaned up."""
    global _GRADING
    _GRADING = True
    try:
        return grade(submission)
    finally:
        _GRADING = False
        if _STOPPING:
            _end_now()


_GRADING = False  # in a pool process: whether it is grading a submission now
_STOPPING = False  # in a pool process: whether it is ending


def _check_lifeline(*_signal):
    try:
        gone = os.read(_LIFELINE, 1) == b""
    except BlockingIOError:  # open, and nothing written
        return
    if gone:
        _stop()


def _stop(*_signal):
    """Its grader is gone, or it was sent SIGTERM (the executor does so when a sibling dies): end, cleaning up."""
    global _STOPPING
    if _STOPPING:
        return
    _STOPPING = True
    if not _GRADING:
        _end_now()
    # As Ctrl-C does: the grading stops, killing its workers and removing its folders on the way
    # out (``_graded`` then ends the process); what it was grading is graded again by the next run.
    raise KeyboardInterrupt


def _end_now():
    """End this pool process, removing the folders it made (its grader, which would have, is gone)."""
    sandbox = sys.modules.get("autograder.sandbox")  # imported once this process has graded
    if sandbox is not None:
        sandbox.remove_own_folders()
    os._exit(1)
