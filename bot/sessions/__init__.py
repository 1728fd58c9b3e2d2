"""Brainstorm sessions, free of Discord: the session record, its admission rule and its contact sheet.

A session is a thread where every idea becomes a job. Its jobs carry `session_id` (the thread's id) and a
`session_number` (#1, #2, …) given atomically by the store as they are admitted; votes are stored per person.
"""

from bot.sessions.models import SessionDefaults, SessionRecord

__all__ = ["SessionDefaults", "SessionRecord"]
