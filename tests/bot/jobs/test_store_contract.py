"""The `JobStore` contract, run unchanged against every backend (`store`/`make_store`: SQLite and PostgreSQL).

Each test has a database of its own: a SQLite file in tmp_path, or a fresh PostgreSQL database (skipped with
a reason when none answers at TEST_DATABASE_URL, a failure under CI). What only one backend does (SQLite's WAL
and file URLs, PostgreSQL's pool and advisory lock) is tested in `test_sqlite_store.py` and
`test_postgres_store.py`.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from bot.jobs.models import Command, JobState
from bot.jobs.postgres import PostgresJobStore
from bot.jobs.store import JobStore, open_store
from tests.bot.jobs.conftest import T0, MakeStore, full_record, record

# --- records -----------------------------------------------------------------------------------------------


async def test_a_fully_populated_record_round_trips_through_a_reopen(make_store: MakeStore) -> None:
    original = full_record()
    async with make_store() as s:
        await s.add(original)

    async with make_store() as s:
        loaded = await s.get(original.id)

    assert loaded is not None
    assert loaded.model_dump() == original.model_dump()
    for name in ("token_expires_at", "submit_started_at", "created_at", "updated_at", "finished_at"):
        value = getattr(loaded, name)
        assert value.tzinfo is not None and value.utcoffset() == timedelta(0), name
    assert loaded.created_at == datetime(2025, 3, 1, 12, 0, 0, 999999, tzinfo=UTC)
    assert loaded.state is JobState.RUNNING and loaded.command is Command.CHARACTER


async def test_defaults_round_trip(store: JobStore) -> None:
    job = record()
    await store.add(job)

    assert await store.get(job.id) == job


async def test_get_unknown_is_none_and_duplicate_add_is_refused(store: JobStore) -> None:
    job = record()
    await store.add(job)

    assert await store.get("nope") is None
    with pytest.raises(ValueError, match="already exists"):
        await store.add(job)


# --- update and transition ---------------------------------------------------------------------------------


async def test_update_sets_fields_and_updated_at(make_store: MakeStore) -> None:
    now = datetime(2025, 3, 2, tzinfo=UTC)
    async with make_store(clock=lambda: now) as s:
        job = record()
        await s.add(job)

        updated = await s.update(job.id, progress=0.5, seeds=[1, 2], scenario_status="processing")

        assert (updated.progress, updated.seeds, updated.scenario_status) == (0.5, [1, 2], "processing")
        assert updated.updated_at == now and updated.created_at == T0
        assert updated.finished_at is None
        assert await s.get(job.id) == updated


async def test_update_validates_names_and_values(store: JobStore) -> None:
    job = record()
    await store.add(job)

    with pytest.raises(ValueError, match="no_such_field"):
        await store.update(job.id, no_such_field=1)
    with pytest.raises(ValueError, match="id"):
        await store.update(job.id, id="other")
    with pytest.raises(ValidationError):
        await store.update(job.id, progress="lots")
    with pytest.raises(KeyError):
        await store.update("missing", progress=1.0)
    assert await store.get(job.id) == job


async def test_update_coerces_like_the_model(store: JobStore) -> None:
    job = record()
    await store.add(job)

    updated = await store.update(job.id, state="failed", submit_started_at="2025-03-01T13:00:00+01:00")

    assert updated.state is JobState.FAILED
    assert updated.submit_started_at == datetime(2025, 3, 1, 12, tzinfo=UTC)
    assert updated.finished_at is not None  # a terminal state set through update still finishes the job


async def test_a_naive_datetime_is_taken_as_utc(store: JobStore) -> None:
    job = record()
    await store.add(job)

    updated = await store.update(job.id, token_expires_at=datetime(2025, 3, 1, 12, 30))

    assert updated.token_expires_at == datetime(2025, 3, 1, 12, 30, tzinfo=UTC)


async def test_transition_is_compare_and_set(store: JobStore) -> None:
    job = record()
    await store.add(job)

    refused = await store.transition(job.id, [JobState.RUNNING], JobState.DELIVERING, progress=1.0)

    assert refused is None
    assert await store.get(job.id) == job

    moved = await store.transition(job.id, [JobState.QUEUED, JobState.SUBMITTING], JobState.SUBMITTING, attempts=1)
    assert moved is not None
    assert moved.state is JobState.SUBMITTING and moved.attempts == 1
    assert moved.updated_at > job.updated_at and moved.finished_at is None
    assert await store.get(job.id) == moved


async def test_transition_of_an_unknown_job_or_from_no_states_is_none(store: JobStore) -> None:
    job = record()
    await store.add(job)

    assert await store.transition("missing", [JobState.QUEUED], JobState.CANCELED) is None
    assert await store.transition(job.id, [], JobState.CANCELED) is None
    assert (await store.get(job.id)).state is JobState.QUEUED  # type: ignore[union-attr]


async def test_only_one_of_two_racing_transitions_wins(store: JobStore) -> None:
    job = record()
    await store.add(job)

    results = await asyncio.gather(
        store.transition(job.id, [JobState.QUEUED], JobState.CANCELED, last_error="Canceled"),
        store.transition(job.id, [JobState.QUEUED], JobState.SUBMITTING),
    )

    winners = [r for r in results if r is not None]
    assert len(winners) == 1
    assert (await store.get(job.id)) == winners[0]


async def test_only_one_of_many_racing_transitions_wins(store: JobStore) -> None:
    """Twenty claims at once (several connections on PostgreSQL): exactly one moves the job."""
    job = record()
    await store.add(job)

    results = await asyncio.gather(
        *(store.transition(job.id, [JobState.QUEUED], JobState.SUBMITTING, attempts=n) for n in range(20))
    )

    winners = [r for r in results if r is not None]
    assert len(winners) == 1
    assert (await store.get(job.id)) == winners[0]


async def test_entering_a_terminal_state_sets_finished_at(make_store: MakeStore) -> None:
    now = datetime(2025, 3, 3, 9, 30, tzinfo=UTC)
    async with make_store(clock=lambda: now) as s:
        job = record(state=JobState.DELIVERING)
        await s.add(job)

        done = await s.transition(job.id, [JobState.DELIVERING], JobState.DELIVERED, delivered_via="channel")

    assert done is not None
    assert done.finished_at == now and done.delivered_via == "channel"


async def test_entering_undelivered_sets_finished_at_unless_given(make_store: MakeStore) -> None:
    """`undelivered` is not active (the engine stops working on it), so it finishes the job too."""
    now = datetime(2025, 3, 3, 9, 30, tzinfo=UTC)
    given = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
    async with make_store(clock=lambda: now) as s:
        first, second = record(state=JobState.DELIVERING), record(state=JobState.DELIVERING)
        for job in (first, second):
            await s.add(job)

        rested = await s.transition(first.id, [JobState.DELIVERING], JobState.UNDELIVERED)
        dated = await s.transition(second.id, [JobState.DELIVERING], JobState.UNDELIVERED, finished_at=given)

    assert rested is not None and rested.finished_at == now
    assert dated is not None and dated.finished_at == given


async def test_transition_rejects_state_and_unknown_fields(store: JobStore) -> None:
    job = record()
    await store.add(job)

    with pytest.raises(ValueError, match="state"):
        await store.transition(job.id, [JobState.QUEUED], JobState.RUNNING, state=JobState.FAILED)
    with pytest.raises(ValueError, match="bogus"):
        await store.transition(job.id, [JobState.QUEUED], JobState.RUNNING, bogus=True)
    assert await store.get(job.id) == job


# --- queries -----------------------------------------------------------------------------------------------


async def test_unfinished_lists_active_jobs_oldest_first(store: JobStore) -> None:
    minute = timedelta(minutes=1)
    jobs = [
        record(created=T0 + 3 * minute, state=JobState.RUNNING),
        record(created=T0 + 1 * minute, state=JobState.QUEUED),
        record(created=T0 + 2 * minute, state=JobState.DELIVERED),
        record(created=T0 + 0 * minute, state=JobState.DELIVERING),
        record(created=T0 + 4 * minute, state=JobState.CANCELED),
        record(created=T0 + 5 * minute, state=JobState.SUBMITTING),
        record(created=T0 + 6 * minute, state=JobState.FAILED),
        record(created=T0 + 7 * minute, state=JobState.UNDELIVERED),
    ]
    for job in jobs:
        await store.add(job)

    unfinished = await store.unfinished()

    assert [r.id for r in unfinished] == [jobs[i].id for i in (3, 1, 0, 5)]


async def test_jobs_created_at_the_same_instant_keep_their_insertion_order(store: JobStore) -> None:
    jobs = [record(user_id=5) for _ in range(6)]
    for job in jobs:
        await store.add(job)

    assert [r.id for r in await store.unfinished()] == [job.id for job in jobs]
    assert [r.id for r in await store.for_user(5)] == [job.id for job in reversed(jobs)]


async def test_for_user_pages_newest_first_and_filters_by_state(store: JobStore) -> None:
    mine = [
        record(7, created=T0 + timedelta(seconds=n), state=JobState.DELIVERED if n % 2 else JobState.QUEUED)
        for n in range(7)
    ]
    for job in [*mine, record(8), record(8)]:
        await store.add(job)
    newest_first = [r.id for r in reversed(mine)]

    first = await store.for_user(7, limit=3)
    second = await store.for_user(7, limit=3, offset=3)
    last = await store.for_user(7, limit=3, offset=6)

    assert [r.id for r in [*first, *second, *last]] == newest_first
    assert len(last) == 1
    delivered = await store.for_user(7, states=[JobState.DELIVERED])
    assert [r.id for r in delivered] == [mine[5].id, mine[3].id, mine[1].id]
    assert list(await store.for_user(7, states=[])) == []
    assert list(await store.for_user(9)) == []
    with pytest.raises(ValueError, match="negative"):
        await store.for_user(7, limit=-1)


async def test_for_user_finds_a_user_with_the_largest_snowflake(store: JobStore) -> None:
    job = full_record()
    await store.add(job)

    assert [r.id for r in await store.for_user(2**63 - 1)] == [job.id]


async def test_scenario_job_ids_include_old_records_submitted_recently(make_store: MakeStore) -> None:
    clock = {"now": T0}
    async with make_store(clock=lambda: clock["now"]) as s:
        stale = record(created=T0 - timedelta(days=5), scenario_job_id="job_stale")
        stale = stale.model_copy(update={"updated_at": T0 - timedelta(days=5)})
        # Queued yesterday, only submitted now: its Scenario job is recent even though the record is old.
        queued_long = record(created=T0 - timedelta(days=1))
        unclaimed = record(created=T0)
        for job in (stale, queued_long, unclaimed):
            await s.add(job)
        await s.transition(queued_long.id, [JobState.QUEUED], JobState.RUNNING, scenario_job_id="job_recent")

        claimed = await s.scenario_job_ids_since(T0 - timedelta(minutes=1))
        # The boundary is included, and a naive `since` is UTC.
        at_the_instant = await s.scenario_job_ids_since(T0.replace(tzinfo=None))

    assert claimed == {"job_recent"}
    assert at_the_instant == {"job_recent"}


async def test_finished_since_lists_jobs_that_came_to_rest_in_the_order_they_did(make_store: MakeStore) -> None:
    clock = {"now": T0}
    async with make_store(clock=lambda: clock["now"]) as s:
        jobs = [record(created=T0 - timedelta(minutes=n)) for n in range(6)]
        for job in jobs:
            await s.add(job)
        ends = [  # (job, state it ends in, minutes after T0, cost)
            (jobs[0], JobState.DELIVERED, 3, 6.0),
            (jobs[1], JobState.FAILED, 1, 4.5),
            (jobs[2], JobState.CANCELED, 2, None),
            (jobs[3], JobState.UNDELIVERED, 5, 6.0),
            (jobs[4], JobState.DELIVERED, -10, 6.0),  # before `since`
        ]
        for job, state, minutes, cost in ends:
            clock["now"] = T0 + timedelta(minutes=minutes)
            await s.transition(job.id, [JobState.QUEUED], state, cost=cost)
        # jobs[5] is still queued: no finished_at

        found = await s.finished_since(T0)
        at_the_instant = await s.finished_since((T0 + timedelta(minutes=1)).replace(tzinfo=None))  # naive: UTC
        later = await s.finished_since(T0 + timedelta(days=1))

    assert [(f.id, f.state, f.cost) for f in found] == [
        (jobs[1].id, JobState.FAILED, 4.5),
        (jobs[2].id, JobState.CANCELED, None),
        (jobs[0].id, JobState.DELIVERED, 6.0),
        (jobs[3].id, JobState.UNDELIVERED, 6.0),
    ]
    assert [f.finished_at for f in found] == [T0 + timedelta(minutes=m) for m in (1, 2, 3, 5)]
    assert [f.created_at for f in found] == [jobs[n].created_at for n in (1, 2, 0, 3)]
    assert all(f.created_at.utcoffset() == f.finished_at.utcoffset() == timedelta(0) for f in found)
    assert [f.id for f in at_the_instant] == [jobs[1].id, jobs[2].id, jobs[0].id, jobs[3].id]
    assert list(later) == []


async def test_ping_answers_while_open_and_raises_otherwise(make_store: MakeStore) -> None:
    store = make_store()
    with pytest.raises(RuntimeError, match="not open"):
        await store.ping()
    async with store:
        assert await store.ping() is None
    with pytest.raises(RuntimeError, match="not open"):
        await store.ping()


# --- lifecycle ---------------------------------------------------------------------------------------------


async def test_reopening_is_idempotent(make_store: MakeStore) -> None:
    job = record()
    async with make_store() as s:
        await s.add(job)
        await s.open()  # already open: nothing happens
    for _ in range(2):
        async with make_store() as s:
            assert await s.get(job.id) == job


async def test_two_stores_on_one_database_see_each_other(make_store: MakeStore) -> None:
    async with make_store() as first, make_store() as second:
        job = record()
        await first.add(job)
        moved = await second.transition(job.id, [JobState.QUEUED], JobState.SUBMITTING)

        assert moved is not None
        assert await first.get(job.id) == moved
        assert await first.transition(job.id, [JobState.QUEUED], JobState.CANCELED) is None


async def test_using_a_store_before_open_or_after_close_says_so(make_store: MakeStore) -> None:
    store = make_store()
    with pytest.raises(RuntimeError, match="not open"):
        await store.get("x")

    await store.open()
    await store.close()
    await store.close()  # closing twice is harmless

    with pytest.raises(RuntimeError, match="not open"):
        await store.add(record())


async def test_open_store_result_opens(store_url: str) -> None:
    store = open_store(store_url)
    await store.open()
    try:
        await store.add(record())
        assert [job.user_id for job in await store.unfinished()] == [1]
    finally:
        await store.close()


# --- server settings (/config) -----------------------------------------------------------------------------


async def test_server_settings_default_then_saved_survive_a_reopen_and_stay_per_server(make_store: MakeStore) -> None:
    from bot.servers import NsfwPolicy, ServerDefaults, ServerSettings

    async with make_store() as s:
        assert await s.server_settings(1) == ServerSettings()
        chosen = ServerSettings(
            defaults=ServerDefaults(speed="turbo", count=2, expand_prompt=False),
            allowed_channels=[10, 11],
            max_count=2,
            max_queued_per_user=1,
            blocked_words=["gore", "/b[a4]d/"],
            nsfw_policy=NsfwPolicy.BLOCK,
            audit_channel_id=2**63 - 1,
        )
        await s.save_server_settings(1, chosen)
        await s.save_server_settings(2, ServerSettings(max_count=3))

    async with make_store() as s, make_store() as other:
        assert await s.server_settings(1) == chosen
        assert await other.server_settings(2) == ServerSettings(max_count=3)
        mine = await s.server_settings(1)
        mine.max_count = 9  # a caller's copy: changing it changes nothing stored
        assert (await s.server_settings(1)).max_count == 2
        await s.save_server_settings(1, ServerSettings())  # a change applies at once
        assert await s.server_settings(1) == ServerSettings()
        if isinstance(s, PostgresJobStore):  # many processes share it: another one's change applies at once too
            assert await s.server_settings(2) == ServerSettings(max_count=3)
            await other.save_server_settings(2, ServerSettings())
            assert await s.server_settings(2) == ServerSettings()


async def test_nsfw_labels_and_a_threads_parent_round_trip(store: JobStore) -> None:
    job = record(channel_parent_id=55, channel_age_restricted=True)
    await store.add(job)

    updated = await store.update(job.id, nsfw_labels={"asset_1": ["nudity", "explicit"]})

    assert updated.nsfw_labels == {"asset_1": ["nudity", "explicit"]}
    assert await store.get(job.id) == updated
    assert updated.channel_parent_id == 55 and updated.channel_age_restricted is True
