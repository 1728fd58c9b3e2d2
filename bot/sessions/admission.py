"""The session rule of admission: an idea posted in a session's thread joins it, numbered, within its budget.

`JobQueue.admit` calls `join_session` for every job. A job whose channel is no session's thread passes
untouched; in an ended session, or one whose spend has reached `budget_cu`, it is refused before anything is
stored or spent (the job's price estimate from `bot.jobs.budgets` counts, when it has one); otherwise the store
gives it the session's next number atomically (two processes never give the same one).
"""

from __future__ import annotations

from bot.errors import UserFacingError
from bot.jobs.models import JobRecord, JobState
from bot.jobs.store import JobStore
from bot.sessions import texts
from bot.sessions.models import SessionRecord


class SessionEndedError(UserFacingError):
    """The idea came after its session ended."""


class SessionBudgetError(UserFacingError):
    """The session has spent its `budget_cu`."""


def charge(job: JobRecord) -> float:
    """What a job counts against a budget (`bot.jobs.spend.CHARGE_SQL`, in Python): its real cost once Scenario
    answered, else its price estimate while it is worked on; a failed or canceled one only what Scenario kept."""
    if job.state in (JobState.FAILED, JobState.CANCELED):
        return job.cost or 0.0
    return job.cost if job.cost is not None else (job.estimate_cu or 0.0)


async def check_open(store: JobStore, session: SessionRecord, job: JobRecord | None = None) -> None:
    """Raise the reply for an idea the session cannot take: it ended, or its spend (running ideas counted at their
    price estimate) has reached `budget_cu`, or would pass it with this job's estimate."""
    if session.ended:
        raise SessionEndedError(texts.ENDED)
    if session.budget_cu is not None:
        spent = sum(charge(other) for other in await store.session_jobs(session.thread_id))
        price = (job.estimate_cu or 0.0) if job is not None else 0.0
        if spent >= session.budget_cu or spent + price > session.budget_cu:
            raise SessionBudgetError(texts.over_budget(session.title, spent, session.budget_cu, price))


async def join_session(store: JobStore, job: JobRecord) -> JobRecord:
    """The job as admitted: with its session and number when posted in a session's thread; else unchanged."""
    if job.channel_id is None or job.guild_id is None:
        return job
    session = await store.get_session(job.channel_id)
    if session is None:
        return job
    await check_open(store, session, job)
    number = await store.take_session_number(session.thread_id)
    if number is None:  # it ended between the two reads
        raise SessionEndedError(texts.ENDED)
    return job.model_copy(update={"session_id": session.thread_id, "session_number": number})
