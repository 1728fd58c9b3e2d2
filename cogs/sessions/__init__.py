"""/session: brainstorm sessions — a thread where ideas become numbered images, votes and a contact sheet.

* `_cog.py` — the commands (`/session start|sheet|end`) and the listeners (ideas as messages, the idea form);
* `_ideas.py` — an idea (a prompt, maybe a reference image) with the session's defaults, as a job;
* `_items.py` — the buttons that outlive restarts: **Add idea** and **👍 vote**;
* `_posts.py` — what the bot posts: the header, the sheet with its index, the summary.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cogs.sessions._cog import Sessions

if TYPE_CHECKING:
    from bot.app import ScenarioBot


async def setup(bot: ScenarioBot) -> None:
    await bot.add_cog(Sessions(bot))
