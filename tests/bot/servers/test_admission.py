"""The server rules at admission: channels (threads follow their parent), blocked terms, limits."""

from __future__ import annotations

import pytest

from bot.errors import InvalidInputError, NotAllowedError, QueueFullError
from bot.jobs.models import Command, JobRecord
from bot.servers import ServerSettings, screen


def job(**fields: object) -> JobRecord:
    base: dict = {"command": Command.IMAGINE, "model_id": "m", "inputs": {"prompt": "a lighthouse"}, "user_id": 1}
    return JobRecord(**{"guild_id": 5, "channel_id": 10, **base, **fields})


def test_allowed_channels_cover_their_threads_and_name_themselves() -> None:
    settings = ServerSettings(allowed_channels=[10])
    screen(job(channel_id=10), settings, queued_here=0)
    screen(job(channel_id=99, channel_parent_id=10), settings, queued_here=0)  # a thread of #10
    with pytest.raises(NotAllowedError, match="<#10>"):
        screen(job(channel_id=11), settings, queued_here=0)
    with pytest.raises(NotAllowedError):
        screen(job(channel_id=98, channel_parent_id=11), settings, queued_here=0)


def test_a_dm_has_no_server_rules() -> None:
    screen(job(guild_id=None, channel_id=3), ServerSettings(allowed_channels=[10], blocked_words=["a"]), queued_here=9)


def test_blocked_terms_never_name_the_list() -> None:
    with pytest.raises(InvalidInputError) as refused:
        screen(job(inputs={"prompt": "so much GORE"}), ServerSettings(blocked_words=["gore"]), queued_here=0)
    assert "gore" not in str(refused.value).lower()


def test_limits() -> None:
    settings = ServerSettings(max_count=2, max_queued_per_user=1)
    screen(job(inputs={"prompt": "x", "numOutputs": 2}), settings, queued_here=0)
    with pytest.raises(InvalidInputError, match="at most 2 images"):
        screen(job(inputs={"prompt": "x", "numOutputs": 3}), settings, queued_here=0)
    with pytest.raises(QueueFullError, match="1 jobs waiting in this server"):
        screen(job(), settings, queued_here=1)
