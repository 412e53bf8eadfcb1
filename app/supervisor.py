"""The supervisor of `serve --workers N`: uvicorn's, with a worker's death ending its health check.

uvicorn's supervisor pings each worker over a pipe every half second and waits
up to `timeout_worker_healthcheck` (10 s here) for the answer. It keeps its own
copy of the worker's end of that pipe, so a worker killed between a ping and
its answer never closes the pipe: the supervisor waits out the whole timeout
before it looks again, and the service runs on one worker fewer all that time.
Under load a ping takes long enough that a kill lands in one often (it failed
the 10 s replacement test in CI twice).

Once a worker has started it holds its own end (spawn passed it the
descriptor), so the supervisor closes its copy: the worker's death then ends
the wait at once with end-of-file, which uvicorn already reads as "not alive".
"""

from __future__ import annotations

from uvicorn.supervisors import Multiprocess

__all__ = ["WorkerSupervisor"]


class WorkerSupervisor(Multiprocess):
    def init_processes(self) -> None:
        super().init_processes()
        self._leave_pipe_ends_to_workers()

    def keep_subprocess_alive(self) -> None:
        super().keep_subprocess_alive()
        self._leave_pipe_ends_to_workers()

    def restart_all(self) -> None:
        super().restart_all()
        self._leave_pipe_ends_to_workers()

    def _leave_pipe_ends_to_workers(self) -> None:
        for worker in self.processes:
            worker.child_conn.close()  # a no-op once closed
