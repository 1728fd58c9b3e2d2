"""Every word a session's participants read from the core (the cogs add their own replies)."""

from __future__ import annotations

ENDED = "🔒 This session has ended: no more ideas are taken. Start a new one with `/session start`."


def over_budget(title: str, spent: float, budget: float, price: float = 0.0) -> str:
    if spent < budget:
        return (
            f"💳 This idea (about {price:g} CU) does not fit what is left of the session **{title}**'s budget "
            f"({spent:g} of {budget:g} CU used). Try fewer images per idea or a faster speed."
        )
    return (
        f"💳 The session **{title}** has used its budget ({spent:g} of {budget:g} CU): no more ideas are taken. "
        "Whoever runs the session can start a new one with a larger `budget_cu`."
    )
