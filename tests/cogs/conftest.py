"""The real bot, in this process, talking to the fake Discord and the fake Scenario on 127.0.0.1.

Nothing inside discord.py is mocked: it logs in, syncs commands and receives interactions over a real
websocket; Scenario jobs run on a shared FakeClock, so a 6-second job finishes in milliseconds.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

import discord
import pytest

from bot.app import ScenarioBot
from bot.bootstrap import open_bot
from bot.jobs.models import JobRecord, JobState
from bot.jobs.store import JobStore
from bot.settings import Settings
from fakes.clock import FakeClock
from fakes.discord import FakeDiscord, FakeInteraction, FakeMessage, RecordedRequest
from fakes.scenario import FakeScenario
from tests.images import png_bytes  # noqa: F401 - re-exported for the tests of this folder


@dataclass
class World:
    discord: FakeDiscord
    scenario: FakeScenario
    bot: ScenarioBot
    clock: FakeClock
    settings: Settings
    resources: contextlib.AsyncExitStack = field(default_factory=contextlib.AsyncExitStack)
    connection: asyncio.Task[None] | None = None

    @property
    def store(self) -> JobStore:
        return self.bot.store

    async def restart_bot(self) -> None:
        """Stop the bot and start a new one on the same database and fakes, as a redeploy would."""
        await stop_bot(self)
        await self.discord.wait_for(lambda: not self.discord.connected)
        await start_bot(self)

    async def wait_for(self, predicate: Callable[[], object], timeout: float = 15.0) -> None:
        await self.discord.wait_for(lambda: bool(predicate()), timeout=timeout)

    async def result_of(self, interaction, timeout: float = 15.0) -> FakeMessage:
        """Wait until the interaction's own message carries images and the job is recorded as delivered."""
        await self.wait_for(lambda: interaction.original is not None and interaction.original.attachments, timeout)
        await self.job_for(interaction, finished=True, timeout=timeout)
        return interaction.original

    async def job_for(self, interaction, *, finished: bool = False, timeout: float = 15.0) -> JobRecord:
        """The job record an interaction created (waiting for it to finish when asked)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while loop.time() < deadline:
            jobs = await self.store.for_user(interaction.user_id, limit=100)
            mine = [job for job in jobs if job.interaction_id == interaction.id]
            if mine and (not finished or not mine[0].state.active):
                return mine[0]
            await asyncio.sleep(0.01)
        raise AssertionError(f"no {'finished ' if finished else ''}job for interaction {interaction.id}")

    def generate_calls(self) -> list:
        return [call for call in self.scenario.generate_calls if call.status == 200]


async def start_world(tmp_path, *, settings_overrides: dict | None = None, **fake_discord_options) -> World:
    clock = FakeClock()
    fd = FakeDiscord(**fake_discord_options)
    await fd.start()
    scenario = FakeScenario(api_key="key", api_secret="secret", clock=clock, sleep=clock.sleep, job_duration=6.0)
    scenario_url = await scenario.start()
    settings = Settings(
        discord_token="fake-token",
        scenario_sdk_api_key="key",
        scenario_sdk_api_secret="secret",
        scenario_base_url=scenario_url,
        discord_api_base_url=fd.api_base,
        **{"database_url": f"sqlite:///{tmp_path}/bot.db", **(settings_overrides or {})},
    )
    world = World(fd, scenario, None, clock, settings)  # type: ignore[arg-type]
    await start_bot(world)
    return world


async def start_bot(world: World) -> None:
    """A fresh bot process's worth of objects (store, session, client, bot) on the world's fakes."""
    world.resources = contextlib.AsyncExitStack()
    world.bot = await world.resources.enter_async_context(
        open_bot(world.settings, clock=world.clock.clock(), guild_ready_timeout=0.05)
    )
    await world.bot.login("fake-token")
    world.connection = asyncio.create_task(world.bot.connect(reconnect=False))
    await world.discord.wait_until_connected(timeout=10)


async def stop_bot(world: World) -> None:
    await world.bot.close()
    assert world.connection is not None
    world.connection.cancel()
    await asyncio.gather(world.connection, return_exceptions=True)
    await world.resources.aclose()


async def stop_world(world: World) -> None:
    await stop_bot(world)
    await world.discord.stop()
    await world.scenario.stop()


@pytest.fixture
async def make_world(tmp_path) -> AsyncIterator[Callable[..., object]]:
    base, gateway = discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
    worlds: list[World] = []

    async def make(**options: object) -> World:
        world = await start_world(tmp_path, **options)
        worlds.append(world)
        return world

    yield make
    for world in worlds:
        await stop_world(world)
    discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = base, gateway
    # Every request the bot sent during the test must satisfy Discord's OpenAPI spec.
    for world in worlds:
        assert not world.discord.violations, world.discord.violations


@pytest.fixture
async def world(make_world) -> World:
    return await make_world()


# -- what a user sees, shared by the tests of this folder ---------------------------------------------------


def private_text(interaction: FakeInteraction) -> str:
    """Everything the bot answered an interaction with as a message of its own: replies and followups."""
    texts = [cb["data"].get("content", "") for cb in interaction.callbacks if cb["type"] == 4 and cb.get("data")]
    return "\n".join(texts + [m.content for m in interaction.followups])


def output_bytes(world: World, job: JobRecord) -> list[bytes]:
    """The images Scenario made for a job, as the bot downloads them."""
    return [world.scenario.assets[asset_id].data for asset_id in job.output_asset_ids]


def posts_with(world: World, images: list[bytes]) -> list[FakeMessage]:
    """Live messages (anywhere: channels, DMs, interaction responses) carrying any of these images."""
    return [
        m for m in world.discord.messages.values() if not m.deleted and any(a.data in images for a in m.attachments)
    ]


def uploads_of(world: World, images: list[bytes]) -> list[RecordedRequest]:
    """Accepted requests that carried any of these images."""
    return [r for r in world.discord.requests if r.status < 300 and any(data in images for _, _, data in r.files)]


async def state_becomes(world: World, job_id: str, state: JobState, timeout: float = 15.0) -> JobRecord:
    """Wait until the stored job is in `state` and return it."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while (job := await world.store.get(job_id)) is not None and job.state is not state:
        assert loop.time() < deadline, f"job {job_id} is {job.state.value}, not {state.value}"
        await asyncio.sleep(0.01)
    assert job is not None
    return job


# The tasks discord.py runs a slash command, a button click or a form submission in.
HANDLER_TASKS = (
    "CommandTree-invoker",
    "discord-ui-view-dispatch-",
    "discord-ui-dynamic-item-",
    "discord.py: on_interaction",
)


async def interactions_handled(world: World) -> None:
    """Wait until the bot has finished handling every interaction it received (whatever it does after replying)."""

    def busy() -> list[asyncio.Task]:
        return [t for t in asyncio.all_tasks() if not t.done() and t.get_name().startswith(HANDLER_TASKS)]

    await world.wait_for(lambda: not busy())
