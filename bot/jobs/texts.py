"""Every text the engine shows a requester: progress while a job waits and runs, and why it ended."""

from __future__ import annotations

STATUS_WORDS = {
    "pending": "Submitted",
    "queued": "Queued at Scenario",
    "warming-up": "Warming up",
    "in-progress": "In progress",
    "finalizing": "Finalizing",
    "success": "Fetching images",
}
BAR_WIDTH = 12


def progress_bar(fraction: float, width: int = BAR_WIDTH) -> str:
    """A text bar such as `▰▰▰▰▱▱▱▱▱▱▱▱ 33%`."""
    fraction = min(max(fraction, 0.0), 1.0)
    filled = round(fraction * width)
    return "▰" * filled + "▱" * (width - filled) + f" {round(fraction * 100)}%"


def format_elapsed(seconds: float) -> str:
    """`42s` or `3m 05s`."""
    seconds = max(int(seconds), 0)
    if seconds < 60:
        return f"{seconds}s"
    return f"{seconds // 60}m {seconds % 60:02d}s"


def queued_text(position: int | None, *, waiting_for_slot: bool = False) -> str:
    """The text for a job that has not started at Scenario yet."""
    if waiting_for_slot:
        return "⏳ Waiting for a free slot — the Scenario plan is running as many jobs as it allows."
    if position is None or position <= 1:
        return "⏳ Queued — you're next."
    return f"⏳ Queued — position {position} in line."


def running_text(status: str, progress: float, elapsed_seconds: float) -> str:
    """The text for a job Scenario is working on."""
    words = STATUS_WORDS.get(status, status.replace("-", " ").capitalize())
    return f"🎨 {words}\n`{progress_bar(progress)}` · {format_elapsed(elapsed_seconds)}"


RESTART_NOTE = "♻️ The bot restarted — your job was kept and continues."
CHECKING_TEXT = (
    "📨 Scenario's answer was lost on the way — checking whether the job started, so it is never paid twice…"
)
CANCELED_TEXT = "🚫 Canceled — nothing was charged."

# -- why a job ended without images ------------------------------------------------------------------------
MISCONFIGURED = (
    "The bot is misconfigured: Scenario refused its credentials or plan. An admin can find the cause in the "
    "bot's logs. Nothing was charged."
)
UNEXPECTED = "Something went wrong on the bot's side. The error was logged for the admin."
SCENARIO_CANCELED = "Scenario canceled this job."


def refused(reason: str | None) -> str:
    return f"Scenario refused the request: {reason or 'no reason given'}"


def not_answering(detail: object) -> str:
    return f"Scenario is not answering properly ({detail}). Try later."


def submission_lost(attempts: int, cause: object) -> str:
    return (
        f"Scenario's answer to this request was lost ({cause}) {attempts} times, and no job for it could be "
        "found there. Nothing more was sent: please try again later."
    )


def unverifiable(cause: object) -> str:
    return (
        f"Scenario's answer to this request was lost, and Scenario could not be asked whether the job started "
        f"({cause}). Nothing more was sent, so it is never paid twice: please try again later."
    )


def job_failed(error: str | None, hint: str | None) -> str:
    text = f"Scenario could not make this image: {error or 'no reason given'}."
    return text + (f"\nHint: {hint}" if hint else "")


def timed_out(seconds: float) -> str:
    # Not "within 0 minutes" / "1 minutes" when JOB_TIMEOUT_SECONDS is short.
    limit = f"{round(seconds / 60)} minutes" if seconds >= 120 else f"{round(seconds)} seconds"
    return f"Scenario did not finish this job within {limit}."


def undelivered(job_id: str, why: object) -> str:
    """The images exist (and are paid for); say why they are not here and how to get them."""
    return f"Undelivered: {why}. The images are kept: use `/show {job_id}` to post them."


def not_fetched(job_id: str, why: object) -> str:
    return f"The images were made but could not be fetched from Scenario ({why}). " + (
        f"They are kept: use `/show {job_id}` to post them."
    )


# -- answers to a requester's own actions ------------------------------------------------------------------
RESTARTING = "The bot is restarting. Please try again in a minute."
REPOSTED = "Result of `{job_id}`, posted again on request."


def queue_full(limit: int, *, server: bool = False) -> str:
    where = " in this server" if server else ""
    return f"You already have {limit} jobs waiting{where}. Wait for one to start, or cancel one with /jobs."


def no_such_job(job_id: str) -> str:
    return f"There is no job `{job_id}` you can use here."


def not_cancelable(job_id: str, state: str) -> str:
    return (
        f"Job `{job_id}` is {state}; only queued jobs can be canceled. Scenario cannot stop a job once it is running."
    )


def just_started(job_id: str) -> str:
    return f"Job `{job_id}` has just started and can no longer be canceled."


def still_working(job_id: str, state: str) -> str:
    return f"Job `{job_id}` is still {state}; its result will be posted when ready."


def no_images(job_id: str, state: str, reason: str | None) -> str:
    return f"Job `{job_id}` has no images ({state}: {reason or 'no result'})."


# -- spending ----------------------------------------------------------------------------------------------
BUDGET_NAMES = {
    "user": "your daily budget",
    "server": "this server's monthly budget",
    "total": "the bot's monthly budget",
}
BLOCKED = "A moderator of this server has blocked you from generating images here. Nothing was spent."


def cu(amount: float) -> str:
    """`12 CU`, `2.5 CU`."""
    return f"{amount:g} CU"


def estimate_note(estimate: float | None) -> str:
    """The price shown while a job waits and runs (`≈ 12 CU`), or nothing when it could not be quoted."""
    return "" if estimate is None else f" · ≈ {cu(estimate)}"


def over_budget(scope: str, estimate: float, remaining: float, resets: str) -> str:
    return (
        f"This request costs about {cu(estimate)}, but {BUDGET_NAMES[scope]} has only {cu(max(remaining, 0))} left. "
        f"It resets {resets}. Nothing was spent."
    )


def cannot_price(detail: object) -> str:
    return f"Scenario could not price this request ({detail}), so it was not started. Nothing was spent; try again."


def confirm_price(estimate: float) -> str:
    return f"💰 This will cost about {cu(estimate)}. Run it, or cancel (nothing is spent until you choose Run)?"


CONFIRM_CANCELED = "Canceled — nothing was spent."
CONFIRM_GONE = "This request was already run or canceled."
CONFIRM_STARTED = "▶️ Started — the progress and the result are posted in the channel."


# -- server settings (/config) ---------------------------------------------------------------------------------

BLOCKED_TERM = (
    "Your prompt contains a term this server does not allow. Nothing was sent or charged; please rephrase it."
)


def channel_not_allowed(channel_ids: list[int]) -> str:
    channels = ", ".join(f"<#{channel_id}>" for channel_id in channel_ids)
    return f"This server uses the bot only in {channels}. Please ask there; nothing was charged."


def too_many_images(count: int, limit: int) -> str:
    return f"This server allows at most {limit} image{'s' if limit != 1 else ''} per request (you asked for {count})."


NSFW_SPOILER_NOTE = "Scenario labelled {which} NSFW: shown as a spoiler."
NSFW_BLOCKED_NOTE = "Scenario labelled {which} NSFW; this server does not post such images, so {it_they} left out."
NSFW_DM_NOTE = (
    "Scenario labelled {which} NSFW; this server shows such images only in age-restricted channels: sent to you by DM."
)
NSFW_DM_FAILED_NOTE = (
    "Scenario labelled {which} NSFW; this server shows such images only in age-restricted channels: use /show"
    " there to see {them}."
)


def nsfw_note(template: str, indexes: list[int], job_id: str = "") -> str:
    """A note about the labelled images, by their place in the result (image 1, images 2 and 3…)."""
    if len(indexes) == 1:
        which, it_they, them = f"image {indexes[0]}", "it was", "it"
    else:
        which = "images " + ", ".join(str(i) for i in indexes[:-1]) + f" and {indexes[-1]}"
        it_they, them = "they were", "them"
    return template.format(which=which, it_they=it_they, them=them, job_id=job_id)


NSFW_DM_TEXT = (
    "Your result from {channel}: Scenario labelled these images NSFW, and that server shows such images only in"
    " age-restricted channels, so here they are."
)
