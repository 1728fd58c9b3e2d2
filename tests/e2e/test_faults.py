"""Faults between the bot and Scenario or Discord, against the real `python -m bot` process.

Every case ends with the job delivered exactly once, or the requester told plainly what happened, and then
the bot serving the next request. Timeouts, too long to wait for in real time, are tested in-process in
`tests/cogs/test_faults_in_process.py`.
"""

from __future__ import annotations

from fakes.discord import FakeInteraction, FakeMessage
from fakes.scenario import Fault
from tests.e2e.conftest import CHANNEL_MESSAGES, E2E, WEBHOOK_MESSAGE, MakeE2E, job_id_of

STATUS_LOOK = r"^/v1/jobs(/job_\w+)?$"
"""A status look: `GET /jobs` (the batched status loop, the default) or `GET /jobs/{id}` (`STATUS_MODE=per_job`)."""


async def delivered_once(e2e: E2E, interaction: FakeInteraction) -> None:
    """The job's result is on the interaction's message, posted once, from one paid Scenario job."""
    message = await e2e.result_of(interaction)
    assert len(e2e.result_posts()) == 1
    assert len(e2e.paid_generates()) == 1
    assert len(e2e.scenario.jobs) == 1, "Scenario ran (and charged for) more than one job"
    assert message.attachments


async def failure_notice(e2e: E2E, interaction: FakeInteraction, state: str = "failed") -> str:
    """The text the requester sees in place of a result, once the job is recorded in `state`."""

    def notice() -> FakeMessage | None:
        original = interaction.original
        return original if original is not None and original.content.startswith("❌") else None

    message = await e2e.wait_for(notice)
    job_id = job_id_of(message)
    assert await e2e.wait_for(lambda: e2e.states().get(job_id) == state), e2e.states().get(job_id)
    assert not message.attachments and not message.ephemeral
    return message.content


# -- Scenario -----------------------------------------------------------------------------------------------


async def test_a_burst_of_5xx_while_polling(e2e: E2E) -> None:
    # Four in a row outlast the client's own retries (3 attempts), so polling itself must carry on.
    e2e.scenario.inject(Fault("GET", STATUS_LOOK, status=503, times=4))
    interaction = await e2e.imagine()
    await delivered_once(e2e, interaction)
    assert len(e2e.scenario_requests("GET", STATUS_LOOK)) >= 5
    await e2e.assert_still_serving()


async def test_a_5xx_burst_on_get_bulk_is_retried(e2e: E2E) -> None:
    e2e.scenario.inject(Fault("POST", r"^/v1/assets/get-bulk$", status=502, times=2))
    interaction = await e2e.imagine()
    await delivered_once(e2e, interaction)
    await e2e.assert_still_serving()


async def test_get_bulk_down_for_longer_the_images_are_kept_for_show(e2e: E2E) -> None:
    fault = Fault("POST", r"^/v1/assets/get-bulk$", status=503, times=1000)
    e2e.scenario.inject(fault)
    interaction = await e2e.imagine()
    # Made and paid for, so not failed: undelivered, kept until the requester asks for it.
    text = await failure_notice(e2e, interaction, state="undelivered")
    job_id = job_id_of(interaction.original)
    assert "could not be fetched from Scenario" in text and f"/show {job_id}" in text
    assert len(e2e.paid_generates()) == 1 and not e2e.result_posts()

    e2e.scenario.faults.clear()  # Scenario is back: the user follows the advice
    show = await e2e.discord.send_command("show", {"job_id": job_id})
    reposted = await e2e.wait_for(lambda: show.original is not None and show.original.attachments and show.original)
    await e2e.wait_for(lambda: e2e.states()[job_id] == "delivered")  # /show records the delivery
    assert len(reposted.attachments) == 1 and len(e2e.paid_generates()) == 1
    await e2e.assert_still_serving()


async def test_connection_resets_while_polling(e2e: E2E) -> None:
    # aiohttp resends an idempotent GET once by itself on a dropped connection: two resets reach the client.
    e2e.scenario.inject(Fault("GET", STATUS_LOOK, kind="reset_before", times=4))
    interaction = await e2e.imagine()
    await delivered_once(e2e, interaction)
    await e2e.assert_still_serving()


async def test_connection_reset_after_scenario_started_the_job(e2e: E2E) -> None:
    # The job exists (and is paid for) but its answer is lost: the bot must find it, not start another.
    e2e.scenario.inject(Fault("POST", r"^/v1/generate/", kind="reset_after"))
    interaction = await e2e.imagine()
    message = await e2e.result_of(interaction)
    assert len(e2e.scenario.jobs) == 1 and len(e2e.scenario.generate_calls) == 1
    assert len(e2e.result_posts()) == 1 and message.attachments
    assert e2e.scenario_requests("GET", r"^/v1/jobs$"), "the bot did not look for the lost job"
    await e2e.assert_still_serving()


async def test_connection_reset_before_scenario_answered(make_e2e: MakeE2E) -> None:
    # The bot cannot know whether the request got through: it looks for the job, waits until the request must
    # have settled at Scenario, looks again, finds nothing, and only then sends it again — one job, delivered.
    e2e = await make_e2e(env={"SCENARIO_TIMEOUT_SECONDS": "2"})
    e2e.scenario.inject(Fault("POST", r"^/v1/generate/", kind="reset_before"))
    interaction = await e2e.imagine()
    message = await e2e.result_of(interaction)
    assert message.attachments and len(e2e.result_posts()) == 1
    assert len(e2e.scenario.jobs) == 1 and len(e2e.scenario.generate_calls) == 2
    assert len(e2e.scenario_requests("GET", r"^/v1/jobs$")) >= 2, "the bot resent without looking twice"
    await e2e.assert_still_serving()


async def test_a_5xx_from_scenario_on_generate_is_sent_again_once(e2e: E2E) -> None:
    # Scenario's own JSON error on a 5xx means it refused the request: after checking, one resend is safe.
    e2e.scenario.inject(Fault("POST", r"^/v1/generate/", status=500))
    interaction = await e2e.imagine()
    await delivered_once(e2e, interaction)
    assert [call.status for call in e2e.scenario.generate_calls] == [500, 200]
    await e2e.assert_still_serving()


async def test_malformed_json_on_generate_and_while_polling(e2e: E2E) -> None:
    e2e.scenario.inject(Fault("POST", r"^/v1/generate/", kind="malformed"))
    e2e.scenario.inject(Fault("GET", STATUS_LOOK, kind="malformed", times=2))
    interaction = await e2e.imagine()
    await delivered_once(e2e, interaction)
    assert len(e2e.scenario.generate_calls) == 1  # the job behind the unreadable answer was found, not re-made
    await e2e.assert_still_serving()


async def test_a_slow_scenario(e2e: E2E) -> None:
    e2e.scenario.inject(Fault("POST", r"^/v1/generate/", kind="delay", delay=1.0))
    e2e.scenario.inject(Fault("GET", STATUS_LOOK, kind="delay", delay=1.0, times=2))
    interaction = await e2e.imagine()
    await delivered_once(e2e, interaction)
    await e2e.assert_still_serving()


async def test_the_plans_parallel_job_ceiling(make_e2e: MakeE2E) -> None:
    # The bot thinks 3 jobs may run at once; Scenario's plan allows 1 and answers 429 to the second.
    e2e = await make_e2e(env={"MAX_PARALLEL_JOBS": "3"}, scenario={"parallel_limit": 1})
    interactions = [await e2e.imagine(f"job {n}", user_id=7000 + n) for n in range(3)]
    messages = [await e2e.result_of(interaction) for interaction in interactions]

    assert len({m.id for m in messages}) == 3 and len(e2e.result_posts()) == 3
    assert len(e2e.paid_generates()) == 3 and len(e2e.scenario.jobs) == 3
    assert any(call.status == 429 for call in e2e.scenario.generate_calls)
    # The first 429 lowers the bot's ceiling to the plan's: the jobs already sent wait their turn, one at a
    # time. Without that, the two waiting jobs would start together when the first ends, and one would 429 again.
    assert [call.status for call in e2e.scenario.generate_calls].count(429) <= 2
    await e2e.assert_still_serving()


async def test_a_job_that_fails_at_scenario_shows_its_error_and_hint(e2e: E2E) -> None:
    e2e.scenario.fail_next_job("The prompt was flagged by the safety filter", "Describe the scene differently")
    interaction = await e2e.imagine("something the filter dislikes")
    text = await failure_notice(e2e, interaction)
    assert text.startswith("❌ Scenario could not make this image: The prompt was flagged by the safety filter.")
    assert "Hint: Describe the scene differently" in text
    assert not e2e.result_posts()
    await e2e.assert_still_serving()


async def test_an_image_url_that_expires_before_the_download(e2e: E2E) -> None:
    interaction = await e2e.imagine()
    await e2e.hold_download()
    e2e.scenario.expire_urls()  # the held download is checked after this: 403, as an expired signed URL
    await delivered_once(e2e, interaction)
    assert e2e.scenario_requests("GET", r"^/v1/assets/asset_"), "no fresh URL was asked for"
    await e2e.assert_still_serving()


# -- Discord ------------------------------------------------------------------------------------------------


async def test_a_429_on_the_result_edit(e2e: E2E) -> None:
    interaction = await e2e.imagine()
    await e2e.hold_download()
    refused = await e2e.refuse_result_upload("PATCH", WEBHOOK_MESSAGE, 429, retry_after=0.3)
    assert refused.response["retry_after"] == 0.3
    await delivered_once(e2e, interaction)
    await e2e.assert_still_serving()


async def test_a_5xx_on_the_result_upload(e2e: E2E) -> None:
    # On the channel route (the token has expired) the upload is the only request: the fault cannot miss it.
    interaction = await e2e.imagine()
    await e2e.hold_download()
    e2e.discord.expire_token(interaction.id)
    e2e.discord.inject("POST", CHANNEL_MESSAGES, 502)
    [message] = await e2e.wait_for(lambda: [m for m in e2e.discord.channel_messages() if m.attachments])
    assert await e2e.finished(job_id_of(message)) == "delivered"
    refused = [r for r in e2e.discord.requests if r.status == 502]
    assert len(refused) == 1 and refused[0].files
    assert len(e2e.result_posts()) == 1
    await e2e.assert_still_serving()


async def test_a_413_on_the_result_upload_is_retried_smaller(e2e: E2E) -> None:
    interaction = await e2e.imagine()
    await e2e.hold_download()
    too_large = {"message": "Request entity too large", "code": 40005}
    refused = await e2e.refuse_result_upload("PATCH", WEBHOOK_MESSAGE, 413, json=too_large)
    await delivered_once(e2e, interaction)
    [accepted] = e2e.result_posts()
    assert accepted.path == refused.path and accepted is not refused
    await e2e.assert_still_serving()


async def test_an_expired_interaction_token_delivers_in_the_channel(e2e: E2E) -> None:
    interaction = await e2e.imagine("a prompt from @everyone")
    await e2e.hold_download()
    e2e.discord.expire_token(interaction.id)
    [message] = await e2e.wait_for(lambda: [m for m in e2e.discord.channel_messages() if m.attachments])
    assert await e2e.finished(job_id_of(message)) == "delivered"
    assert message.content == f"<@{interaction.user_id}> here is your result."
    assert message.mentions == [interaction.user_id] and not message.mention_everyone
    assert len(e2e.result_posts()) == 1 and len(e2e.paid_generates()) == 1
    await e2e.assert_still_serving()


async def test_a_429_on_the_channel_message(e2e: E2E) -> None:
    interaction = await e2e.imagine()
    await e2e.hold_download()
    e2e.discord.expire_token(interaction.id)
    await e2e.refuse_result_upload("POST", CHANNEL_MESSAGES, 429, retry_after=0.5)
    [message] = await e2e.wait_for(lambda: [m for m in e2e.discord.channel_messages() if m.attachments])
    assert await e2e.finished(job_id_of(message)) == "delivered"
    assert len(e2e.result_posts()) == 1
    await e2e.assert_still_serving()
