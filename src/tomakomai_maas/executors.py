"""Executors: run many independent jobs (replications, sweep points) and return results in order.

An executor maps ``fn(*job)`` over a list of argument tuples and returns the results **in job
order**, whatever ran them and in whatever order they finished. Simulation jobs are
``(world, seed)`` pairs, and ``simulate(world, seed)`` is a pure function of its arguments, so
results are identical whichever executor ran them (tests/test_executors.py checks this).

============================  ===================================================================
executor                      when
============================  ===================================================================
:class:`SerialExecutor`       one worker, or one job; runs in this process
:class:`LocalExecutor`        default; a :class:`~concurrent.futures.ProcessPoolExecutor`
:class:`DaskExecutor`         ``--scheduler tcp://HOST:PORT``: a Dask distributed cluster
                              (``pip install tomakomai-maas[distributed]``)
============================  ===================================================================

Large arguments shared by many jobs (the World of a scenario) are sent to a Dask cluster
once (``Client.scatter``) instead of once per job.

Example::

    from tomakomai_maas.executors import get_executor
    from tomakomai_maas.runner import simulate_replications

    with get_executor(scheduler="tcp://10.0.0.5:8786") as ex:
        reps = simulate_replications(world, seeds, executor=ex)
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any, TypeVar

from tomakomai_maas.errors import TomakomaiError

__all__ = [
    "Executor",
    "SerialExecutor",
    "LocalExecutor",
    "DaskExecutor",
    "get_executor",
    "probe_scheduler",
    "PROBE_TIMEOUT_S",
    "ProgressFn",
]

log = logging.getLogger(__name__)

R = TypeVar("R")
ProgressFn = Callable[[int, int], None]
"""``progress(done, total)``, called after each finished job (in completion order)."""

_SCALARS = (str, bytes, int, float, bool, type(None))


class Executor:
    """Base class: ``map(fn, jobs)`` → ``[fn(*job) for job in jobs]`` (in job order).

    Executors are context managers; :meth:`close` releases workers/connections.
    """

    name = "base"

    def map(self, fn: Callable[..., R], jobs: Sequence[tuple[Any, ...]], *,
            progress: ProgressFn | None = None) -> list[R]:
        raise NotImplementedError

    def close(self) -> None:
        """Release resources (no-op by default)."""

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class SerialExecutor(Executor):
    """Run every job in this process, one after the other."""

    name = "serial"

    def map(self, fn: Callable[..., R], jobs: Sequence[tuple[Any, ...]], *,
            progress: ProgressFn | None = None) -> list[R]:
        out: list[R] = []
        n = len(jobs)
        for k, job in enumerate(jobs):
            out.append(fn(*job))
            if progress:
                progress(k + 1, n)
        return out


class LocalExecutor(Executor):
    """A local process pool (``workers`` processes, default: CPU count).

    With one worker, or a single job, it runs serially in this process (no pickling).
    The pool is created on first use and kept until :meth:`close`.
    """

    name = "local"

    def __init__(self, workers: int | None = None) -> None:
        if workers is not None and workers < 1:
            raise ValueError(f"workers must be >= 1, got {workers}")
        self.workers = int(workers if workers is not None else (os.cpu_count() or 1))
        self._pool: ProcessPoolExecutor | None = None

    def map(self, fn: Callable[..., R], jobs: Sequence[tuple[Any, ...]], *,
            progress: ProgressFn | None = None) -> list[R]:
        n = len(jobs)
        if self.workers <= 1 or n <= 1:
            return SerialExecutor().map(fn, jobs, progress=progress)
        if self._pool is None:
            self._pool = ProcessPoolExecutor(max_workers=self.workers)
        futures = [self._pool.submit(fn, *job) for job in jobs]
        return _collect(futures, progress)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)
            self._pool = None

    def __repr__(self) -> str:
        return f"LocalExecutor(workers={self.workers})"


class DaskExecutor(Executor):
    """Jobs on a Dask distributed cluster, e.g. ``DaskExecutor("tcp://10.0.0.5:8786")``.

    Arguments that are not plain scalars and are shared by several jobs (by identity, e.g. the
    World of a scenario) are scattered to the workers once. Results come back in job order.
    Pass ``client=`` to reuse an existing :class:`distributed.Client` (not closed by
    :meth:`close`).
    """

    name = "dask"

    def __init__(self, address: str | None = None, *, client: Any = None,
                 timeout_s: float = 30.0) -> None:
        try:
            from distributed import Client
        except ImportError as exc:  # pragma: no cover - depends on the install
            raise TomakomaiError(
                "--scheduler needs Dask distributed: pip install 'tomakomai-maas[distributed]'"
            ) from exc
        if client is None and not address:
            raise ValueError("give a scheduler address (tcp://HOST:PORT) or a client")
        self.address = address
        self._own = client is None
        if client is None:
            reason = probe_scheduler(str(address), timeout_s=min(timeout_s, PROBE_TIMEOUT_S))
            if reason is not None:
                raise TomakomaiError(
                    f"--scheduler {address}: cannot reach the Dask scheduler ({reason}); start "
                    "one there ('dask scheduler' and 'dask worker <address>'), check the host "
                    "and port, or leave --scheduler out to run on local processes (-j N)")
            try:
                client = Client(address, timeout=timeout_s)
            except OSError as exc:
                raise TomakomaiError(f"cannot reach the Dask scheduler at {address}: {exc}"
                                     ) from exc
            except Exception as exc:  # it accepted the connection but did not speak Dask
                raise TomakomaiError(
                    f"--scheduler {address}: something answers there but it is not a Dask "
                    f"scheduler ({type(exc).__name__}: {str(exc)[:120]}); check the port "
                    "(a scheduler listens on 8786 by default)") from exc
        self.client = client

    def map(self, fn: Callable[..., R], jobs: Sequence[tuple[Any, ...]], *,
            progress: ProgressFn | None = None) -> list[R]:
        from distributed import as_completed

        if not jobs:
            return []
        counts: dict[int, int] = {}
        for job in jobs:
            for a in job:
                if not isinstance(a, _SCALARS):
                    counts[id(a)] = counts.get(id(a), 0) + 1
        shared: dict[int, Any] = {}
        for job in jobs:
            for a in job:
                if counts.get(id(a), 0) > 1 and id(a) not in shared:
                    shared[id(a)] = self.client.scatter(a, broadcast=True, hash=False)
        futures = [
            self.client.submit(fn, *[shared.get(id(a), a) for a in job], pure=False)
            for job in jobs
        ]
        n = len(futures)
        done = 0
        for fut in as_completed(futures):
            if fut.status == "error":
                fut.result()  # raises the job's exception here
            done += 1
            if progress:
                progress(done, n)
        return list(self.client.gather(futures))

    def close(self) -> None:
        if self._own:
            self.client.close()

    def __repr__(self) -> str:
        return f"DaskExecutor({self.address or self.client!r})"


#: Seconds a TCP connection to a Dask scheduler may take before it counts as unreachable
#: (a reachable scheduler answers within milliseconds; Dask's own time-out is 30 s).
PROBE_TIMEOUT_S = 3.0


def probe_scheduler(address: str, *, timeout_s: float = PROBE_TIMEOUT_S) -> str | None:
    """Open (and close) a plain TCP connection to a ``tcp://HOST:PORT`` scheduler address.

    Returns ``None`` when it connects, else a short reason ("connection refused", "no answer
    within 3 s", ...). DNS lookup included in the time limit; like the OpenStreetMap probe of
    :mod:`tomakomai_maas.network.online`, so an unreachable cluster fails in seconds.
    """
    from urllib.parse import urlparse

    from tomakomai_maas.network.online import tcp_probe

    try:
        parsed = urlparse(address)
        host, port = parsed.hostname, parsed.port
    except ValueError as exc:
        return f"bad address: {exc}"
    if not host or port is None:
        return "the address needs a host and a port, e.g. tcp://10.0.0.5:8786"
    return tcp_probe(host, port, timeout_s=timeout_s,
                     describe=lambda e: e.strerror or type(e).__name__)


def _collect(futures: list[Any], progress: ProgressFn | None) -> list[Any]:
    from concurrent.futures import as_completed

    n = len(futures)
    done = 0
    try:
        for fut in as_completed(futures):
            fut.result()  # re-raise the first failure
            done += 1
            if progress:
                progress(done, n)
    except BaseException:
        for f in futures:
            f.cancel()
        raise
    return [f.result() for f in futures]


def get_executor(*, scheduler: str | None = None, workers: int | None = None) -> Executor:
    """The executor for the CLI options ``--scheduler`` / ``-j``.

    ``scheduler`` (``tcp://HOST:PORT``) → :class:`DaskExecutor`; ``workers == 1`` →
    :class:`SerialExecutor`; otherwise :class:`LocalExecutor` with ``workers`` processes.
    """
    if workers is not None and workers < 1:
        raise TomakomaiError(f"--workers must be >= 1, got {workers}")
    if scheduler and workers is not None:
        raise TomakomaiError(f"give either -j/--workers (local processes) or --scheduler (a "
                             f"Dask cluster), not both (got -j {workers} and --scheduler "
                             f"{scheduler})")
    if scheduler:
        if "://" not in scheduler:
            raise TomakomaiError(f"--scheduler must look like tcp://HOST:PORT, got {scheduler!r}")
        return DaskExecutor(scheduler)
    if workers == 1:
        return SerialExecutor()
    return LocalExecutor(workers)
