"""Fair, capped scheduling: round-robin across users, under a ceiling of parallel Scenario jobs.

Pure bookkeeping with no I/O, so its rules are easy to test: the engine asks `next_job()` whenever a slot
may be free, and reports back with `started`, `finished` and `requeue_front`.
"""

from __future__ import annotations

from collections import OrderedDict, deque


class FairScheduler:
    """Queued job ids per user, served one user at a time in turn, and a count of running jobs.

    Users take turns in the order they first queued: after a user's job starts, that user moves to the back
    of the line, so one person's twenty requests never hold back everyone else's first one.
    """

    def __init__(self, limit: int | None) -> None:
        if limit is not None and limit < 1:
            raise ValueError("limit must be at least 1")
        self.limit = limit
        """The ceiling of parallel Scenario jobs; None while it is not known (the engine probes for it)."""
        self._queues: OrderedDict[int, deque[str]] = OrderedDict()
        self._owner: dict[str, int] = {}
        self.running: set[str] = set()

    # -- queue -----------------------------------------------------------------------------------------
    def add(self, job_id: str, user_id: int) -> None:
        """Queue a job at the back of its user's own line."""
        if job_id in self._owner or job_id in self.running:
            return
        self._queues.setdefault(user_id, deque()).append(job_id)
        self._owner[job_id] = user_id

    def requeue_front(self, job_id: str, user_id: int) -> None:
        """Put a job that could not start (no free slot at Scenario) back at the head of the whole line."""
        self.running.discard(job_id)
        if job_id in self._owner:
            return
        self._queues.setdefault(user_id, deque()).appendleft(job_id)
        self._queues.move_to_end(user_id, last=False)
        self._owner[job_id] = user_id

    def remove(self, job_id: str) -> bool:
        """Take a queued job out of the line (cancellation). False if it was not queued."""
        user_id = self._owner.pop(job_id, None)
        if user_id is None:
            return False
        line = self._queues[user_id]
        line.remove(job_id)
        if not line:
            del self._queues[user_id]
        return True

    @property
    def has_waiting(self) -> bool:
        return bool(self._owner)

    def __contains__(self, job_id: str) -> bool:
        return job_id in self._owner

    # -- slots -----------------------------------------------------------------------------------------
    @property
    def has_free_slot(self) -> bool:
        return self.limit is None or len(self.running) < self.limit

    def next_job(self, *, beyond_limit: bool = False) -> str | None:
        """The next job to start, if a slot is free (or `beyond_limit`: a probe) and anyone is waiting; it
        counts as running from now."""
        if not (self.has_free_slot or beyond_limit) or not self._queues:
            return None
        user_id, line = next(iter(self._queues.items()))
        job_id = line.popleft()
        del self._owner[job_id]
        if line:
            self._queues.move_to_end(user_id)
        else:
            del self._queues[user_id]
        self.running.add(job_id)
        return job_id

    def started(self, job_id: str) -> None:
        """Count a job as running without taking it from the line (a job resumed after a restart)."""
        self.running.add(job_id)

    def finished(self, job_id: str) -> None:
        """Free the slot a job held."""
        self.running.discard(job_id)

    def set_limit(self, limit: int) -> bool:
        """Adopt a ceiling learned from Scenario (up or down); True if it changed."""
        if limit >= 1 and limit != self.limit:
            self.limit = limit
            return True
        return False

    # -- positions -------------------------------------------------------------------------------------
    def positions(self) -> dict[str, int]:
        """Every queued job's 1-based place in line, as the round-robin would start them."""
        result: dict[str, int] = {}
        lines = [list(line) for line in self._queues.values()]
        place = 0
        depth = 0
        while True:
            progressed = False
            for line in lines:
                if depth < len(line):
                    place += 1
                    result[line[depth]] = place
                    progressed = True
            if not progressed:
                return result
            depth += 1

    def position(self, job_id: str) -> int | None:
        """One job's 1-based place in line, or None if it is not queued: the `positions()` place, counted from
        the lines' lengths (a person's job at depth d waits for d jobs of every longer line, and for the d-th
        of each line ahead of theirs), not by walking the whole line (asked for every job admitted)."""
        user_id = self._owner.get(job_id)
        if user_id is None:
            return None
        depth = self._queues[user_id].index(job_id)
        place = 1
        ahead = True
        for owner, line in self._queues.items():
            if owner == user_id:
                ahead = False
            place += min(len(line), depth + 1 if ahead else depth)
        return place
