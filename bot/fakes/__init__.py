"""Faithful fakes of Scenario and Discord, for the tests, the sandbox and the demo.

They live in the package (not under tests/) because `python -m bot.sandbox` and `python -m bot demo`
serve them to people trying the bot without credentials.
"""
