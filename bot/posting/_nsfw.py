"""The server's NSFW policy (`/config nsfw`) applied to one result, for the place it is posted in.

Images Scenario labels NSFW (`OutputImage.nsfw`) are, by policy:

* `spoiler` — posted as spoilers (`SPOILER_` file names), everywhere;
* `age_restricted_only` — posted as they are in an age-restricted channel (and in the requester's DMs);
  elsewhere left out of the message and sent to the requester by DM, with a note in the channel;
* `block` — never posted; a note in the message says so.

A job from a DM, or a server with no `/config`, gets `spoiler`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from bot.jobs import texts
from bot.jobs.delivery import OutputImage
from bot.servers import NsfwPolicy


@dataclass(frozen=True)
class NsfwPlan:
    """What one message shows: its images (some as spoilers), the ones sent by DM instead, and the notes."""

    images: list[OutputImage]
    spoilers: frozenset[str] = frozenset()
    """Asset ids posted as spoilers."""
    by_dm: list[OutputImage] = field(default_factory=list)
    """Labelled images the requester gets by DM instead (age_restricted_only, outside such a channel)."""
    notes: list[str] = field(default_factory=list)


def plan_for(
    images: Sequence[OutputImage], policy: NsfwPolicy, *, place: str, age_restricted: bool, dm_possible: bool = True
) -> NsfwPlan:
    """How to post `images` at `place` (`interaction`, `channel`, `dm` or `show`) under `policy`."""
    flagged = [index for index, image in enumerate(images, start=1) if image.nsfw]
    if not flagged:
        return NsfwPlan(list(images))
    labelled = {images[index - 1].asset_id for index in flagged}
    clean = [image for image in images if image.asset_id not in labelled]
    if policy is NsfwPolicy.BLOCK:
        return NsfwPlan(clean, notes=[texts.nsfw_note(texts.NSFW_BLOCKED_NOTE, flagged)])
    if policy is NsfwPolicy.AGE_RESTRICTED_ONLY:
        if age_restricted or place == "dm":
            return NsfwPlan(list(images))
        if place == "show" or not dm_possible:
            return NsfwPlan(clean, notes=[texts.nsfw_note(texts.NSFW_DM_FAILED_NOTE, flagged)])
        moved = [image for image in images if image.asset_id in labelled]
        return NsfwPlan(clean, by_dm=moved, notes=[texts.nsfw_note(texts.NSFW_DM_NOTE, flagged)])
    return NsfwPlan(
        list(images), spoilers=frozenset(labelled), notes=[texts.nsfw_note(texts.NSFW_SPOILER_NOTE, flagged)]
    )


def channel_is_age_restricted(channel: object) -> bool:
    """Discord's age-restricted flag for a channel (a thread follows its parent); False when unknown."""
    is_nsfw = getattr(channel, "is_nsfw", None)
    try:
        return bool(is_nsfw()) if callable(is_nsfw) else False
    except AttributeError:  # a thread whose parent is not cached
        return False
