"""Grading processes: at most ``jobs`` submissions at a time, and a dead process costs no other submission."""
from __future__ import annotations

import multiprocessing
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

    while queue:
        pool = ProcessPoolExecutor(max_workers=min(jobs, len(queue)), mp_context=context)
        running = {}
        try:
            while queue or running:
                while queue and len(running) < jobs and not (running and queue[0].folder in suspects) \
                        and not any(s.folder in suspects for s in running.values()):
                    submission = queue.popleft()
                    running[pool.submit(grade, submission)] = submission
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
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
