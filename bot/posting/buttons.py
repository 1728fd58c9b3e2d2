"""The buttons under every result, as the message carries them: labels and custom ids.

Posting builds them here, in the core, so a result looks the same whoever posts it; `cogs/results.py`
answers the clicks, matching the same custom ids (`TEMPLATE`) with `DynamicItem`s that survive restarts.
"""

from __future__ import annotations

from collections.abc import Sequence

import discord

from bot.jobs.delivery import OutputImage
from bot.jobs.models import Command, JobRecord

JOB = r"(?P<job>[0-9a-f]{12})"
TEMPLATE = r"^res:(?P<action>[a-z]+):" + JOB + r"(?::(?P<index>[0-9]))?$"
"""`res:<action>:<job id>[:<image number>]`."""
MAX_CHARACTER_BUTTONS = 4
VOTE_TEMPLATE = r"^ses:vote:" + JOB + r"$"
"""`ses:vote:<job id>`: the 👍 vote button of a session's result (answered by `cogs/sessions`)."""


def custom_id(action: str, job_id: str, index: int | None = None) -> str:
    """The custom id of one result button (see `TEMPLATE`)."""
    return f"res:{action}:{job_id}" + (f":{index}" if index is not None else "")


def button(
    action: str,
    job_id: str,
    index: int | None = None,
    *,
    label: str = "",
    emoji: str | None = None,
    style: discord.ButtonStyle = discord.ButtonStyle.secondary,
) -> discord.ui.Button:
    """One result button."""
    return discord.ui.Button(label=label, emoji=emoji, style=style, custom_id=custom_id(action, job_id, index))


def vote_label(count: int) -> str:
    """The vote button's label: the count is on the button itself."""
    return f"vote · {count}"


def vote_button(job_id: str, count: int = 0) -> discord.ui.Button:
    """The 👍 vote button of a session's result, showing its count."""
    return discord.ui.Button(
        label=vote_label(count), emoji="👍", style=discord.ButtonStyle.primary, custom_id=f"ses:vote:{job_id}"
    )


def result_buttons(job: JobRecord, images: Sequence[OutputImage]) -> list[discord.ui.Button]:
    """Reroll, same seed with an edited prompt, use an image as a character (V4 only), delete; vote in a session."""
    buttons = [
        button("reroll", job.id, label="Reroll", emoji="🎲"),
        button("edit", job.id, label="Same seed, edit prompt", emoji="✏️"),
    ]
    if job.command is Command.IMAGINE:
        for index in range(min(len(images), MAX_CHARACTER_BUTTONS)):
            label = "Use as character" if len(images) == 1 else f"Character from #{index + 1}"
            buttons.append(button("char", job.id, index, label=label, emoji="🧬"))
    buttons.append(button("delete", job.id, label="Delete", emoji="🗑️", style=discord.ButtonStyle.danger))
    if job.session_number is not None:
        buttons.append(vote_button(job.id))
    return buttons


def result_view(job: JobRecord, images: Sequence[OutputImage]) -> discord.ui.View:
    """The buttons as a view to send. It is stopped, so discord.py keeps no copy per message in memory:
    clicks reach the `DynamicItem`s registered by the results cog, whichever process posted the message."""
    view = discord.ui.View(timeout=None)
    for item in result_buttons(job, images):
        view.add_item(item)
    view.stop()
    return view


CONFIRM_TEMPLATE = r"^cost:(?P<action>run|cancel):" + JOB + r"$"
"""`cost:<run|cancel>:<job id>`: the buttons under "This will cost about N CU" (answered by `cogs/confirm.py`)."""


def confirm_button(action: str, job_id: str) -> discord.ui.Button:
    """Run or Cancel for a request waiting for its requester's confirmation."""
    if action == "run":
        return discord.ui.Button(
            label="Run", emoji="▶️", style=discord.ButtonStyle.success, custom_id=f"cost:run:{job_id}"
        )
    return discord.ui.Button(label="Cancel", style=discord.ButtonStyle.secondary, custom_id=f"cost:cancel:{job_id}")


def confirm_view(job_id: str) -> discord.ui.View:
    """Run and Cancel as a view to send; stopped, so clicks reach the `DynamicItem`s, even after a restart."""
    view = discord.ui.View(timeout=None)
    view.add_item(confirm_button("run", job_id))
    view.add_item(confirm_button("cancel", job_id))
    view.stop()
    return view
