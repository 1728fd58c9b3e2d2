"""OpenAPI validation on its own: matching, allowances, multipart, query parameters, speed."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from fakes.discord import FakeDiscord, SpecNotFoundError
from fakes.discord._openapi import SPEC_ENV, OpenAPI

MESSAGE_BODY = {
    "content": "done",
    "tts": False,
    "attachments": [{"id": 0, "filename": "a.png"}],
    "allowed_mentions": {"parse": [], "users": [123], "replied_user": False},
    "components": [{"type": 1, "components": [{"type": 2, "style": 1, "label": "Go", "custom_id": "go"}]}],
    "embeds": [{"title": "t", "fields": [{"name": "n", "value": "v", "inline": True}], "color": 5}],
}


@pytest.fixture
def spec() -> OpenAPI:
    return OpenAPI.load()


def problems(
    spec: OpenAPI,
    method: str,
    path: str,
    body: object,
    media: str = "application/json",
    query: dict[str, list[str]] | None = None,
) -> list[str]:
    found = spec.match(method, path)
    assert found is not None
    operation, params = found
    return [p.describe() for p in spec.validate_request(operation, params, query or {}, media, body)]


def test_a_missing_spec_is_a_clear_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(SPEC_ENV, str(tmp_path / "nowhere.json"))
    with pytest.raises(SpecNotFoundError, match=r"nowhere\.json"):
        FakeDiscord()
    assert not FakeDiscord.spec_available()
    assert FakeDiscord(validate=False).openapi is None


def test_literal_segments_win_over_parameters(spec: OpenAPI) -> None:
    original = spec.match("PATCH", "/webhooks/1/tok/messages/@original")
    by_id = spec.match("PATCH", "/webhooks/1/tok/messages/55")
    assert original is not None and original[0].template.endswith("/@original")
    assert by_id is not None and by_id[1] == {"webhook_id": "1", "webhook_token": "tok", "message_id": "55"}
    assert spec.match("GET", "/users/@me")[0].template == "/users/@me"  # type: ignore[index]
    assert spec.match("GET", "/not/a/route") is None


def test_what_discord_py_sends_passes(spec: OpenAPI) -> None:
    assert problems(spec, "POST", "/channels/1/messages", MESSAGE_BODY) == []
    assert problems(spec, "PATCH", "/webhooks/1/t/messages/@original", MESSAGE_BODY, media="multipart/form-data") == []
    callback = {"type": 4, "data": {k: v for k, v in MESSAGE_BODY.items() if k != "tts"}}
    assert problems(spec, "POST", "/interactions/1/t/callback", callback, query={"with_response": ["1"]}) == []


def test_the_snowflake_allowance_is_narrow(spec: OpenAPI) -> None:
    def with_ids(*ids: object) -> dict[str, object]:
        return {"content": "x", "attachments": [{"id": i} for i in ids]}

    assert problems(spec, "POST", "/channels/1/messages", with_ids("0", 7, 2**63)) == []
    for bad in (-1, 1.5, "abc", True, None, 2**64):
        assert problems(spec, "POST", "/channels/1/messages", with_ids(bad)), bad


def test_path_and_query_parameters_are_checked(spec: OpenAPI) -> None:
    assert any("<path>/channel_id" in p for p in problems(spec, "POST", "/channels/abc/messages", {"content": "x"}))
    found = problems(spec, "POST", "/interactions/1/t/callback", {"type": 5}, query={"with_response": ["maybe"]})
    assert found == ["<query>/with_response: Value 'maybe' is not of type boolean."]
    # Undeclared query parameters are ignored, as Discord ignores them.
    assert problems(spec, "POST", "/interactions/1/t/callback", {"type": 5}, query={"x": ["1"]}) == []


def test_discriminated_unions_report_the_meant_branch(spec: OpenAPI) -> None:
    modal = {
        "type": 9,
        "data": {
            "custom_id": "m",
            "title": "t" * 46,
            "components": [{"type": 1, "components": [{"type": 4, "custom_id": "a", "style": 1, "label": "A"}]}],
        },
    }
    assert problems(spec, "POST", "/interactions/1/t/callback", modal) == ["data/title: Must be 45 or fewer in length."]
    button = {"components": [{"type": 1, "components": [{"type": 2, "style": 1, "custom_id": "x" * 101}]}]}
    assert problems(spec, "POST", "/channels/1/messages", button) == [
        "components/0/components/0/custom_id: Must be 100 or fewer in length."
    ]


def test_validators_are_compiled_once(spec: OpenAPI) -> None:
    operation, params = spec.match("POST", "/channels/1/messages")  # type: ignore[misc]
    spec.validate_request(operation, params, {}, "application/json", MESSAGE_BODY)
    validator = operation.validators["body:application/json"]
    for _ in range(3):
        assert not spec.validate_request(operation, params, {}, "application/json", MESSAGE_BODY)
    assert operation.validators["body:application/json"] is validator  # speed is measured, never asserted


@pytest.fixture
async def raw() -> AsyncIterator[tuple[FakeDiscord, aiohttp.ClientSession]]:
    fake = FakeDiscord(token="t")
    await fake.start()
    async with aiohttp.ClientSession(headers={"Authorization": "Bot t"}) as session:
        yield fake, session
    await fake.stop()


async def test_multipart_payload_json_is_validated(raw: tuple[FakeDiscord, aiohttp.ClientSession]) -> None:
    fd, session = raw
    form = aiohttp.FormData(quote_fields=False)
    form.add_field("payload_json", json.dumps({"content": "x", "attachments": [{"id": 0, "filename": ""}]}))
    form.add_field("files[0]", b"bytes", filename="a.txt", content_type="application/octet-stream")
    async with session.post(f"{fd.api_base}/channels/{fd.channel_id}/messages", data=form) as response:
        assert response.status == 400
        assert response.headers["Content-Type"] == "application/json"
        body = await response.json()
    assert body["errors"]["attachments"]["0"]["filename"]["_errors"][0]["code"] == "BASE_TYPE_MIN_LENGTH"
    assert len(fd.violations) == 1 and fd.requests[-1].files == [("files[0]", "a.txt", b"bytes")]


async def test_eleven_files_are_refused(raw: tuple[FakeDiscord, aiohttp.ClientSession]) -> None:
    fd, session = raw
    form = aiohttp.FormData(quote_fields=False)
    form.add_field("payload_json", json.dumps({"content": "x"}))
    for n in range(11):
        form.add_field(f"files[{n}]", b"b", filename=f"{n}.txt")
    async with session.post(f"{fd.api_base}/channels/{fd.channel_id}/messages", data=form) as response:
        assert response.status == 400
        assert (await response.json())["code"] == 50035
    assert not fd.channel_messages()


async def test_attachments_are_served_with_exact_bytes(raw: tuple[FakeDiscord, aiohttp.ClientSession]) -> None:
    fd, session = raw
    form = aiohttp.FormData(quote_fields=False)
    form.add_field("payload_json", json.dumps({"attachments": [{"id": 0, "filename": "my pic.png"}]}))
    form.add_field("files[0]", b"\x89PNG-not-really", filename="my pic.png", content_type="application/octet-stream")
    async with session.post(f"{fd.api_base}/channels/{fd.channel_id}/messages", data=form) as response:
        message = await response.json()
    [attachment] = message["attachments"]
    assert attachment["filename"] == "my_pic.png" and attachment["content_type"] == "image/png"
    for url in (attachment["url"], attachment["proxy_url"]):
        async with session.get(url) as served:
            assert served.status == 200 and served.headers["Content-Type"] == "image/png"
            assert await served.read() == b"\x89PNG-not-really"
    async with session.get(attachment["url"].split("?")[0]) as unsigned:
        assert unsigned.status == 404
