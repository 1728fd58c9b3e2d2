"""Faithful fakes of Scenario and Discord, for the tests, the sandbox and the demo.

A package of its own, outside the product (`bot/`, `cogs/`): the Docker image does not contain it, and its
extra dependency (jsonschema, for validating requests against Discord's OpenAPI spec) comes with
`pip install -e ".[sandbox]"`, which `[test]` includes. `python -m fakes.sandbox` serves the fake Scenario;
`python -m bot demo` drives the fake Discord.
"""
