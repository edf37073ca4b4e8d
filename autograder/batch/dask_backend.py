"""Grading on a Dask distributed cluster (``pip install "dlgrade[cluster]"``).

Each Dask worker process gets a :class:`GraderPlugin`, which builds the plan and opens ONE
sandbox when the worker starts (or joins later) and closes it when the worker stops. A task
grades one job with it (:func:`grade_on_worker`, the same :class:`GradingWorker` as the local
pool) and returns the plain answer dict; the coordinator writes it to the gradebook through
the same callback as a local run. With ``device="cuda"`` each task asks for the worker
resource ``GPU=1``, so only workers started with ``--resources GPU=1`` take them.
"""

from __future__ import annotations

from autograder.batch.worker import GradingSettings
from autograder.states import State
from autograder.errors import DlgradeError

PLUGIN_NAME = "dlgrade-grader"

try:
    from distributed import WorkerPlugin as _WorkerPlugin
except ImportError:  # the [cluster] extra is not installed: DaskPool says so when used
    _WorkerPlugin = object


class DaskUnavailable(DlgradeError, RuntimeError):
    pass


def _distributed():
    try:
        import distributed
    except ImportError:
        raise DaskUnavailable('--scheduler needs Dask: pip install "dlgrade[cluster]"') from None
    return distributed


class GraderPlugin(_WorkerPlugin):
    """One plan and one sandbox per Dask worker process."""

    name = PLUGIN_NAME

    def __init__(self, settings: GradingSettings):
        self.settings = settings
        self.grader = None

    def setup(self, worker):
        from autograder.batch.worker import GradingWorker

        self.grader = GradingWorker(self.settings)

    def teardown(self, worker):
        if self.grader is not None:
            self.grader.close()


def grade_on_worker(job: dict) -> dict:
    """A Dask task: grade ``job`` with this worker's plugin (plain dict in, plain dict out)."""
    from distributed import get_worker

    plugin = get_worker().plugins[PLUGIN_NAME]
    return plugin.grader.grade(job)


class DaskPool:
    """Grade jobs on the cluster whose scheduler listens at ``address`` (tcp://host:port)."""

    def __init__(self, settings: GradingSettings, address: str):
        self.settings, self.address = settings, address

    def run(self, jobs, on_result) -> None:
        distributed = _distributed()
        jobs = list(jobs)
        if not jobs:
            return
        resources = {"GPU": 1} if self.settings.device == "cuda" else None
        with distributed.Client(self.address, timeout="30s") as client:
            client.register_plugin(GraderPlugin(self.settings), name=PLUGIN_NAME)
            futures = {}
            for job in jobs:
                future = client.submit(grade_on_worker, job, resources=resources, pure=False,
                                       key=f"dlgrade-{job['student']}-{job['sha256'][:12]}-{id(job)}")
                futures[future] = job
            for future in distributed.as_completed(futures):
                job = futures[future]
                try:
                    answer = future.result()
                except Exception as error:  # noqa: BLE001 - a lost worker costs this submission alone
                    answer = {"student": job["student"], "sha256": job["sha256"], "verdict": State.TOOL_FAILURE.value,
                              "document": None, "worker": "dask",
                              "reason": f"the Dask worker failed on this submission: {type(error).__name__}: {error}"}
                on_result(job, answer)
