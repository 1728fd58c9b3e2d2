"""Scenario Ideogram bot: the core (settings, Scenario client, job engine, storage, images)."""
