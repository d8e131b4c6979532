"""The Dask cluster a study runs on: a LocalCluster of its own, or one the user started.

    scheduler=None, DL_SCHEDULER unset   a LocalCluster: one worker process per
                                         core (or `workers`), one thread each,
                                         BLAS at one thread; shut down at the end
    scheduler="tcp://HOST:8786"          a cluster started with `dask scheduler`
                                         and `dask worker` (left running)

Dask does the scheduling, the transfers and the reruns of a dead worker's
tasks; DL adds nothing of its own between them.
"""
import contextlib
import logging
import os

# One BLAS thread in every worker: a study runs one trial per core, and these
# models' matrices are small (Dask's nannies set the same by default).
BLAS_ENV = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}

CONNECT_SECONDS = 8  # an unreachable scheduler is reported within 10 s


def scheduler_address(scheduler):
    """The scheduler to join: `scheduler`, else $DL_SCHEDULER, else None (a LocalCluster)."""
    address = scheduler if scheduler is not None else os.environ.get("DL_SCHEDULER", "").strip()
    if address and not isinstance(address, str):
        raise TypeError("scheduler must be an address such as 'tcp://127.0.0.1:8786', got %r" % (address,))
    return address or None


def _check_workers(workers):
    if workers is None:
        return os.cpu_count() or 1
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ValueError("workers must be a positive number of worker processes, got %r" % (workers,))
    return workers


@contextlib.contextmanager
def dask_client(scheduler=None, workers=None):
    """A distributed.Client for the study, closed (and a LocalCluster shut down) on the
    way out, also after Ctrl-C or an error."""
    import dask
    from distributed import Client, LocalCluster

    address = scheduler_address(scheduler)
    if address is not None:
        if workers is not None:
            raise ValueError("workers=%r starts a LocalCluster; with scheduler=%s the cluster's own "
                             "`dask worker` processes run the trials (drop workers=)" % (workers, address))
        try:
            client = Client(address, timeout="%ds" % CONNECT_SECONDS, set_as_default=False)
        except (OSError, TimeoutError) as error:
            raise ConnectionError(
                "cannot reach the Dask scheduler at %s within %d s (%s). Start it with `dask scheduler` "
                "and workers with `dask worker %s`, or leave scheduler/DL_SCHEDULER unset for a "
                "LocalCluster" % (address, CONNECT_SECONDS, error, address)) from None
        try:
            yield client
        finally:
            client.close()
        return
    n_workers = _check_workers(workers)
    # (dashboard on a free port: the scheduler's HTTP server binds one even when it has no dashboard,
    # and 8787 may be another cluster's)
    # Dask's workers sample their threads' stacks every 10 ms for the dashboard's profile
    # page; on training loops that call small compiled functions it cost 9% of each trial
    # (benchmarks/sweep_throughput.py), so DL's own cluster runs without it.
    with dask.config.set({"distributed.worker.profile.enabled": False}):
        cluster = LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True,
                               dashboard_address=":0", silence_logs=logging.ERROR, env=dict(BLAS_ENV))
    try:
        client = Client(cluster, set_as_default=False)
        try:
            yield client
        finally:
            client.close()
    finally:
        cluster.close()
