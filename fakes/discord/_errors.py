"""The error bodies Discord answers with, as an exception the route handlers raise."""

from __future__ import annotations

from typing import Any


class APIError(Exception):
    """An HTTP error response in Discord's shape: `{"code", "message"}` plus `errors` for form errors."""

    def __init__(self, status: int, code: int, message: str, errors: dict[str, Any] | None = None) -> None:
        super().__init__(f"{status} {code} {message}")
        self.status = status
        self.code = code
        self.message = message
        self.errors = errors

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"message": self.message, "code": self.code}
        if self.errors is not None:
            body["errors"] = self.errors
        return body


def form_errors(field_path: list[str | int], code: str, message: str) -> dict[str, Any]:
    """Nest one error under its field path the way Discord reports Invalid Form Body."""
    node: dict[str, Any] = {"_errors": [{"code": code, "message": message}]}
    for key in reversed(field_path):
        node = {str(key): node}
    return node


def invalid_form(field_path: list[str | int], code: str, message: str) -> APIError:
    return APIError(400, 50035, "Invalid Form Body", form_errors(field_path, code, message))


def not_found() -> APIError:
    return APIError(404, 0, "404: Not Found")


def unauthorized() -> APIError:
    return APIError(401, 0, "401: Unauthorized")


def unknown_channel() -> APIError:
    return APIError(404, 10003, "Unknown Channel")


def unknown_message() -> APIError:
    return APIError(404, 10008, "Unknown Message")


def unknown_user() -> APIError:
    return APIError(404, 10013, "Unknown User")


def unknown_webhook() -> APIError:
    return APIError(404, 10015, "Unknown Webhook")


def unknown_interaction() -> APIError:
    return APIError(404, 10062, "Unknown interaction")


def unknown_command() -> APIError:
    return APIError(404, 10063, "Unknown application command")


def too_large() -> APIError:
    return APIError(413, 40005, "Request entity too large")


def already_acknowledged() -> APIError:
    return APIError(400, 40060, "Interaction has already been acknowledged.")


def max_followups() -> APIError:
    return APIError(400, 40094, "This interaction has hit the maximum number of follow up messages")


def missing_access() -> APIError:
    return APIError(403, 50001, "Missing Access")


def cannot_edit_others() -> APIError:
    return APIError(403, 50005, "Cannot edit a message authored by another user")


def empty_message() -> APIError:
    return APIError(400, 50006, "Cannot send an empty message")


def cannot_dm() -> APIError:
    return APIError(403, 50007, "Cannot send messages to this user")


def missing_permissions() -> APIError:
    return APIError(403, 50013, "Missing Permissions")


def invalid_webhook_token() -> APIError:
    return APIError(401, 50027, "Invalid Webhook Token")
