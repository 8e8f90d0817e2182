"""Grading on a Dask cluster: ``run_on_cluster``, the contract of ``pool.run_pool`` with a scheduler for ``jobs``.

Each submission is one Dask task, keyed by the student, that calls the same
``grade`` the local pool calls, so student code runs in the kit's sandboxed
worker on the Dask worker's machine. Results come back to the client, which
writes them. A Dask worker lost mid-batch only delays the submissions it held:
the scheduler runs them again elsewhere, and only one whose workers keep dying
(the scheduler's ``allowed-failures``) becomes a grader error.

The workers need the kit installed from the same commit (the client compares
``grader_version()`` before it sends anything, and every task again) and the
submissions at the same paths (a shared file system); the scheduler needs the
kit installed too, as it unpickles the tasks.
"""
from __future__ import annotations

import asyncio
import logging
import socket
import sys
import threading
import uuid
from concurrent.futures import CancelledError  # Dask's, not asyncio's
from pathlib import Path

from autograder.errors import RunError
from autograder.report import safe_name
from autograder.sandbox import detect
from autograder.versioning import grader_version

CONNECT_SECONDS = 10  # to reach the scheduler
WORKERS_SECONDS = 30  # for a first worker to join it
RETRIES = 2  # of a task that raised (a lost worker is the scheduler's to retry)

_NOT_A_SCHEDULER = ("{address} is not a Dask scheduler but {what}; "
                    "give the scheduler's address (`dask scheduler` prints it)")
# One grading at a time per worker process, whatever its --nthreads: the hidden suites run pytest in-process.
_ONE_AT_A_TIME = threading.Lock()


def run_on_cluster(todo, grade, failed, address, require_sandbox=False):
    """Yield each submission's result as a worker of the Dask cluster at ``address`` grades it.

    Parameters
    ----------
    todo, grade, failed
        As for ``pool.run_pool``; ``grade`` runs on a Dask worker.
    address : str
        The scheduler's, e.g. ``tcp://host:8786``.
    require_sandbox : bool
        Refuse unless every worker isolates student code (bubblewrap or Landlock).

    Raises
    ------
    RunError
        The scheduler cannot be reached, no worker joins it, a worker runs another grader version,
        has no sandbox when one is required or cannot see a submission; or the scheduler is lost mid-batch.
    """
    if not todo:
        return
    from distributed import as_completed

    client = _connect(address)
    try:
        version = grader_version()
        _check_cluster(client, address, version, [str(s.folder) for s in todo], require_sandbox)
        batch = uuid.uuid4().hex[:8]
        futures = {client.submit(_grade_on_worker, grade, submission, version, pure=False, retries=RETRIES,
                                 key=f"autograder-{batch}-{safe_name(submission.student)}"): submission
                   for submission in todo}
        completed = as_completed(list(futures), loop=client.loop)
        for future in completed:
            if future.status == "lost":  # its result was on a worker that died since: the scheduler computes it again
                completed.add(future)
                continue
            yield _outcome(future, futures.pop(future), failed, address)
            future.release()
    finally:
        _close(client)


def _grade_on_worker(grade, submission, version):
    """Runs on a Dask worker: ``grade(submission)``, if this worker is the client's grader."""
    theirs = grader_version()
    if theirs != version:
        raise RunError(_other_version(theirs, version))
    with _ONE_AT_A_TIME:
        return grade(submission)


def _connect(address):
    """A client of the scheduler at ``address``, or a one-line error within ``CONNECT_SECONDS``.

    The scheduler is asked who it is before a client is made: a client that fails half-made
    (another service on the port) would print a traceback and hang on exit.
    """
    from distributed import Client
    from distributed.comm import parse_address
    from distributed.comm.addressing import parse_host_port

    try:
        scheme, location = parse_address(address)
        if scheme in ("tcp", "tls"):  # a refused connection is said at once, not after CONNECT_SECONDS of retries
            socket.create_connection(parse_host_port(location), timeout=CONNECT_SECONDS).close()
        identity = asyncio.run(asyncio.wait_for(_identity(address), CONNECT_SECONDS))
    except ValueError as exc:
        raise RunError(f"--scheduler {address}: not a Dask scheduler address ({exc}); "
                       "give one like tcp://host:8786") from None
    except (OSError, asyncio.TimeoutError) as exc:  # refused, unknown host, or no answer in time
        reason = getattr(exc, "strerror", None) or f"no answer within {CONNECT_SECONDS} s"
        raise RunError(f"cannot reach the Dask scheduler at {address} ({reason}); "
                       "is `dask scheduler` running there, and is the port open to this machine?") from None
    except Exception as exc:  # noqa: BLE001 - whatever a stranger on the port sends
        raise RunError(_NOT_A_SCHEDULER.format(
            address=address, what=f"a service that does not speak Dask's protocol ({type(exc).__name__})")) from None
    if identity.get("type") != "Scheduler":
        raise RunError(_NOT_A_SCHEDULER.format(address=address, what=f"a Dask {identity.get('type')}"))
    return Client(address, timeout=CONNECT_SECONDS, set_as_default=False)


async def _identity(address):
    from distributed.core import rpc

    async with rpc(address) as scheduler:
        return await scheduler.identity()


def _close(client):
    """Close the client; once the scheduler is lost, the reconnection Dask gives up logs a traceback: not shown."""
    log = logging.getLogger("distributed.client")
    level = log.level
    log.setLevel(logging.CRITICAL)
    try:
        client.close()
    finally:
        log.setLevel(level)


def _check_cluster(client, address, version, folders, require_sandbox):
    """Refuse a cluster without workers, or with a part that would grade differently or not at all."""
    try:  # the scheduler unpickles the tasks, so it imports the kit too
        client.run_on_scheduler(grader_version)
    except Exception as exc:  # noqa: BLE001 - whatever the scheduler could not load
        raise RunError(f"the Dask scheduler at {address} cannot load the kit ({type(exc).__name__}); "
                       "install the kit where the scheduler runs, as on the workers") from None
    try:
        client.wait_for_workers(1, timeout=WORKERS_SECONDS)
    except TimeoutError:
        raise RunError(f"the Dask scheduler at {address} has no workers (none joined within {WORKERS_SECONDS} s); "
                       f"start some with `dask worker {address} --nthreads 1`, where the kit is installed") from None
    try:
        facts = client.run(_worker_facts, folders)
    except Exception as exc:  # noqa: BLE001 - e.g. a worker without the kit cannot even load the check
        raise RunError(f"the Dask workers at {address} cannot run the kit ({type(exc).__name__}: {exc}); "
                       "install it on every worker from the same commit as here") from None
    unsandboxed = []
    for worker, fact in sorted(facts.items()):
        if fact["version"] != version:
            raise RunError(f"Dask worker {worker}: {_other_version(fact['version'], version)}")
        if fact["missing"]:
            raise RunError(f"Dask worker {worker} cannot see the submission {fact['missing']}; the workers need "
                           "the submissions at the same paths as here (a shared file system)")
        if not fact["sandboxed"]:
            unsandboxed.append(worker)
    if unsandboxed and require_sandbox:
        raise RunError(f"refusing to grade without a sandbox (--require-sandbox): Dask worker(s) "
                       f"{', '.join(unsandboxed)} cannot isolate student code; install bubblewrap there")
    if unsandboxed:
        print(f"autograder: warning: student code is NOT sandboxed on Dask worker(s) {', '.join(unsandboxed)}; "
              "install bubblewrap there, or run `autograder selftest` on them.", file=sys.stderr)


def _worker_facts(folders):
    """Runs on every Dask worker: its grader version and sandbox, and the first folder it cannot see."""
    return {"version": grader_version(), "sandboxed": detect().sandboxed,
            "missing": next((folder for folder in folders if not Path(folder).is_dir()), None)}


def _other_version(theirs, ours):
    return (f"runs grader version {theirs}, this client {ours}; install the kit on every worker "
            "from the same commit (same solutions/ and hidden tests) and restart the workers")


def _outcome(future, submission, failed, address):
    """The task's result, its grader error if it failed for good, or an error for the whole batch if it was lost.

    ``result()`` rather than the status: a result lost with its worker between the two is computed again and waited for.
    """
    from distributed import KilledWorker

    try:
        return future.result()
    except CancelledError as exc:  # the client's connection to the scheduler was lost, and with it every task
        raise RunError(f"lost the Dask scheduler at {address} ({getattr(exc, 'reason', 'task cancelled')}); "
                       "results graded so far are kept, run again to resume") from None
    except KilledWorker:
        return failed(submission, RunError("every Dask worker that graded this submission died (out of memory, "
                                           "or killed); grade it again, or look at it by hand"))
    except Exception as exc:  # noqa: BLE001 - the task's own error, raised where it ran
        return failed(submission, exc)
