"""The audit line: who, command, prompt, cost, outcome, link."""

from __future__ import annotations

from bot.jobs.models import Command, JobRecord, JobState
from bot.servers import audit_line


def test_a_delivered_job_links_to_its_result() -> None:
    job = JobRecord(
        command=Command.IMAGINE, model_id="m", inputs={"prompt": "a `lighthouse`\nat dusk"}, user_id=7, guild_id=5,
        channel_id=10, state=JobState.DELIVERED, delivered_via="interaction", delivered_message_ids=[99], cost=12.5,
    )  # fmt: skip
    line = audit_line(job)
    assert line == (
        f"✅ delivered · <@7> · /imagine · `a ˋlighthouseˋ at dusk` · 12.5 CU · "
        f"[result](https://discord.com/channels/5/10/99) · job `{job.id}`"
    )


def test_a_failed_job_says_why_and_a_dm_has_no_link() -> None:
    failed = JobRecord(
        command=Command.CHARACTER, model_id="m", inputs={"prompt": "p"}, user_id=7, guild_id=5,
        state=JobState.FAILED, last_error="Scenario could not make this image",
    )  # fmt: skip
    assert audit_line(failed).startswith("❌ failed · <@7> · /character · `p` · no charge · Scenario could not")
    dm = failed.model_copy(update={"state": JobState.DELIVERED, "delivered_via": "dm", "last_error": None})
    assert "sent by DM" in audit_line(dm) and "https://" not in audit_line(dm)
