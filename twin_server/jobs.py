"""The job queue (Huey): SQLite-backed in-process by default, Redis for separate workers.

* ``embedded``: jobs live in ``<data_dir>/queue.db`` and a thread of the server process
  consumes them (``make run`` needs nothing else).
* ``redis``: jobs live in Redis; ``twin worker`` processes on any machine consume them.
* ``immediate``: a job runs synchronously when enqueued (tests).

Huey forgets a job whose worker is killed mid-run, so processing jobs keep a lease in the
database (see ``services.processing``) and every consumer runs a reaper that hands jobs
with an expired lease back to the queue.

The regional layer's evaluation (KPIs and alerts) is a job too: queued for one project when
something relevant changes there, and for the whole portfolio every
``evaluation_interval_seconds`` by a timer thread of each consumer (the job itself makes
sure only one of several processes runs each round).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from huey import Huey, MemoryHuey, RedisHuey, SqliteHuey

from .config import Settings

__all__ = ["JobQueue"]

log = logging.getLogger(__name__)
_POLL_S = 0.5  # how often an idle in-process consumer looks for a job


class JobQueue:
    """Queue of revision-processing jobs.

    ``handler(revision_id)`` processes one revision; ``reaper()`` returns the ids of
    revisions whose worker died, which are enqueued again.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        handler: Callable[[int], int | None],
        reaper: Callable[[], list[int]],
        evaluator: Callable[[list[int] | None], None] | None = None,
    ) -> None:
        self._reaper = reaper
        self._reap_every_s = max(settings.job_lease_seconds / 2, 0.5)
        self._evaluate_every_s = settings.evaluation_interval_seconds
        self.huey = _make_huey(settings)
        # Evaluations are cheap to repeat and the next change or round repeats them anyway:
        # no retries.
        self._evaluation = (
            self.huey.task(name="evaluate_projects", retries=0)(evaluator) if evaluator is not None else None
        )

        # Huey's own retries cover errors raised by the handler (each is a new attempt,
        # counted by the handler against job_max_attempts). No delay: a delayed retry
        # needs Huey's scheduler, which the in-process consumer does not run.
        def process(revision_id: int) -> None:
            project_id = handler(revision_id)
            if project_id is not None:
                self.evaluate([project_id])  # a new revision moves the SPI

        self._process = self.huey.task(
            name="process_revision", retries=settings.job_max_attempts - 1, retry_delay=0
        )(process)
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    @property
    def kind(self) -> str:
        return "immediate" if self.huey.immediate else type(self.huey).__name__

    def enqueue(self, revision_id: int) -> None:
        """Queue the processing of ``revision_id`` (runs at once in immediate mode)."""
        self._process(revision_id)

    def evaluate(self, project_ids: list[int] | None) -> None:
        """Queue an evaluation of KPIs and alerts: for these projects after a change, or the
        periodic round for all (``None``). Never raises: a failed evaluation must not fail
        the request whose change prompted it (the next round catches up)."""
        if self._evaluation is None:
            return
        try:
            self._evaluation(project_ids)
        except Exception:
            log.exception("could not queue or run the evaluation of projects %s", project_ids)

    def start_in_process(self) -> None:
        """Consume jobs in a thread of this process (embedded mode) and reap dead ones."""
        if self.huey.immediate or self._threads:
            return
        self._stop.clear()
        for target, name in (
            (self._consume, "job-consumer"),
            (self._reap_loop, "job-reaper"),
            (self._evaluation_loop, "evaluation-timer"),
        ):
            thread = threading.Thread(target=target, name=name, daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self, timeout_s: float = 10.0) -> None:
        """Ask the in-process threads to stop after their current job."""
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout_s)
        self._threads = []

    def run_worker(self, *, workers: int = 1) -> None:
        """Block, consuming jobs like ``huey_consumer`` (for ``twin worker``), with a reaper."""
        reaper = threading.Thread(target=self._reap_loop, name="job-reaper", daemon=True)
        reaper.start()
        timer = threading.Thread(target=self._evaluation_loop, name="evaluation-timer", daemon=True)
        timer.start()
        consumer = self.huey.create_consumer(workers=workers, worker_type="thread", periodic=False)
        consumer.run()

    def reap(self) -> list[int]:
        """Re-enqueue the revisions whose worker died; returns their ids."""
        revived = self._reaper()
        for revision_id in revived:
            self.enqueue(revision_id)
        return revived

    def _consume(self) -> None:
        while not self._stop.is_set():
            try:
                task = self.huey.dequeue()
            except Exception:
                log.exception("could not read the job queue")
                task = None
            if task is None:
                self._stop.wait(_POLL_S)
                continue
            try:
                self.huey.execute(task)
            except Exception:  # Huey logs the task's error and schedules its retry
                log.exception("job %s raised", task.id)

    def _evaluation_loop(self) -> None:
        # The first round soon after start (a restarted server catches up), then regularly.
        delay = min(self._evaluate_every_s, 30.0)
        while not self._stop.wait(delay):
            self.evaluate(None)
            delay = self._evaluate_every_s

    def _reap_loop(self) -> None:
        while not self._stop.wait(self._reap_every_s):
            try:
                self.reap()
            except Exception:
                log.exception("could not reap dead jobs")


def _make_huey(settings: Settings) -> Huey:
    if settings.queue == "immediate":
        return MemoryHuey(settings.queue_name, immediate=True)
    if settings.queue == "redis":
        return RedisHuey(settings.queue_name, url=settings.redis_url)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return SqliteHuey(settings.queue_name, filename=str(settings.data_dir / "queue.db"))
