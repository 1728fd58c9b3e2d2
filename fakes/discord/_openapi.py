"""Request validation against Discord's own OpenAPI 3.1 description (discord/discord-api-specs).

Each request is matched to a path template of the spec; its path parameters, declared query parameters and
body are validated with jsonschema (Draft 2020-12), `#/components/schemas/...` references resolved through a
`referencing` registry that holds the whole document. Validators are compiled on first use and cached per
operation, and the parsed spec is shared by every fake in the process.

What the spec cannot express, and so is not checked here: multipart file parts (the spec only names the
`files[0]`…`files[9]` fields as binary strings; the fake checks count and size itself), the JSON-in-a-form
`payload_json` part (the fake validates its parsed content against the operation's multipart schema),
`format` keywords (annotations in 2020-12: snowflake, uri, int64 are not asserted), headers, and business
rules that live outside the schema (2000-character content for bots, the 6000-character embed total,
upload sizes, nonce reuse, permissions).
"""

from __future__ import annotations

import contextlib
import copy
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError, best_match
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

SPEC_ENV = "DISCORD_OPENAPI_SPEC"
SPEC_URI = "urn:discord-openapi"
MAX_REPORTED_ERRORS = 10

# Narrow, explicit allowances for places where the spec is stricter than Discord itself.
#
# SnowflakeType: the spec declares snowflakes as decimal strings only. Discord's API accepts integer
# snowflakes in request bodies as well, and discord.py relies on it everywhere: new attachments are
# referenced by their upload index (`"attachments": [{"id": 0, ...}]`), `allowed_mentions.users`,
# `recipient_id`, `message_reference.message_id` and `sticker_ids` are sent as ints. Only non-negative
# integers that fit a snowflake's 64 bits are added; every other type is still rejected.
SNOWFLAKE_ALLOWANCE = {"type": "integer", "minimum": 0, "maximum": 2**64 - 1}

_REQUIRED = re.compile(r"^'(.+)' is a required property$")
_CODES = {
    "required": "BASE_TYPE_REQUIRED",
    "maxLength": "BASE_TYPE_MAX_LENGTH",
    "maxItems": "BASE_TYPE_MAX_LENGTH",
    "minLength": "BASE_TYPE_MIN_LENGTH",
    "minItems": "BASE_TYPE_MIN_LENGTH",
    "enum": "BASE_TYPE_CHOICES",
    "const": "BASE_TYPE_CHOICES",
    "maximum": "NUMBER_TYPE_MAX",
    "minimum": "NUMBER_TYPE_MIN",
    "pattern": "STRING_TYPE_REGEX",
    "anyOf": "UNION_TYPE_CHOICES",
    "oneOf": "UNION_TYPE_CHOICES",
    "uniqueItems": "BASE_TYPE_UNIQUE",
    "type": "BASE_TYPE_BAD_TYPE",
}


class SpecNotFoundError(FileNotFoundError):
    """The OpenAPI file is missing while validation was asked for."""


@dataclass(frozen=True)
class Problem:
    """One validation failure: where in the request, what is wrong, and Discord's style of error code."""

    location: tuple[str | int, ...]
    message: str
    code: str

    def describe(self) -> str:
        where = "/".join(str(p) for p in self.location) or "<root>"
        return f"{where}: {self.message}"


@dataclass
class Operation:
    """One method on one path template, with its lazily compiled validators."""

    method: str
    template: str
    operation_id: str
    pointer: str
    raw: dict[str, Any]
    params: dict[str, list[dict[str, Any]]]
    validators: dict[str, Draft202012Validator] = field(default_factory=dict)

    @property
    def path_names(self) -> list[str]:
        return [s[1:-1] for s in self.template.strip("/").split("/") if s.startswith("{")]

    @property
    def body_required(self) -> bool:
        return bool(self.raw.get("requestBody", {}).get("required"))

    def body_media_types(self) -> list[str]:
        return list(self.raw.get("requestBody", {}).get("content", {}))


def default_spec_path() -> Path:
    """`$DISCORD_OPENAPI_SPEC`, else the copy kept beside this module (`spec/`, MIT-licensed by Discord)."""
    override = os.environ.get(SPEC_ENV)
    if override:
        return Path(override)
    return Path(__file__).resolve().parent / "spec" / "discord-openapi.json"


def _escape(segment: str) -> str:
    return segment.replace("~", "~0").replace("/", "~1")


def _absolutize(schema: Any) -> Any:
    """Point local refs at the registered spec, for schemas assembled outside the document."""
    if isinstance(schema, dict):
        out = {k: _absolutize(v) for k, v in schema.items()}
        ref = out.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/"):
            out["$ref"] = SPEC_URI + ref
        return out
    if isinstance(schema, list):
        return [_absolutize(v) for v in schema]
    return schema


class OpenAPI:
    """The parsed spec: path matching and validation of requests (and, for tests, of responses)."""

    _cache: dict[Path, OpenAPI] = {}

    def __init__(self, spec: dict[str, Any]) -> None:
        spec = copy.deepcopy(spec)
        schemas = spec["components"]["schemas"]
        schemas["SnowflakeType"] = {"anyOf": [schemas["SnowflakeType"], SNOWFLAKE_ALLOWANCE]}
        self.spec = spec
        resource = Resource.from_contents(spec, default_specification=DRAFT202012)
        self._registry = Registry().with_resource(SPEC_URI, resource)
        self._index: dict[tuple[str, int], list[tuple[tuple[str | None, ...], Operation]]] = {}
        for template, item in spec["paths"].items():
            shared = item.get("parameters", [])
            for method, op in item.items():
                if method == "parameters":
                    continue
                params: dict[str, list[dict[str, Any]]] = {"path": [], "query": []}
                for param in [*shared, *op.get("parameters", [])]:
                    params.setdefault(param["in"], []).append(param)
                operation = Operation(
                    method=method.upper(),
                    template=template,
                    operation_id=op.get("operationId", f"{method} {template}"),
                    pointer=f"/paths/{_escape(template)}/{method}",
                    raw=op,
                    params=params,
                )
                segments = tuple(
                    None if s.startswith("{") and s.endswith("}") else s for s in template.strip("/").split("/")
                )
                key = (operation.method, len(segments))
                self._index.setdefault(key, []).append((segments, operation))
        for candidates in self._index.values():
            # Literal segments win over parameters: `/messages/@original` before `/messages/{message_id}`.
            candidates.sort(key=lambda c: [s is None for s in c[0]])

    @classmethod
    def load(cls, path: Path | None = None) -> OpenAPI:
        """Parse (once per process) the spec at `path` or the default location."""
        path = (path or default_spec_path()).resolve()
        cached = cls._cache.get(path)
        if cached is None:
            if not path.is_file():
                raise SpecNotFoundError(
                    f"Discord OpenAPI spec not found at {path}; set {SPEC_ENV} to its location "
                    "or construct FakeDiscord(validate=False)"
                )
            cached = cls._cache[path] = cls(json.loads(path.read_text(encoding="utf-8")))
        return cached

    def match(self, method: str, path: str) -> tuple[Operation, dict[str, str]] | None:
        """The operation whose template matches `path` (relative to /api/v10), and the path parameters."""
        segments = path.strip("/").split("/")
        for template_segments, operation in self._index.get((method.upper(), len(segments)), ()):
            values: list[str] = []
            for pattern, actual in zip(template_segments, segments, strict=True):
                if pattern is None:
                    if not actual:
                        break
                    values.append(actual)
                elif pattern != actual:
                    break
            else:
                return operation, dict(zip(operation.path_names, values, strict=True))
        return None

    def _validator(self, operation: Operation, key: str, schema: dict[str, Any]) -> Draft202012Validator:
        validator = operation.validators.get(key)
        if validator is None:
            validator = operation.validators[key] = Draft202012Validator(schema, registry=self._registry)
        return validator

    def _params_validator(self, operation: Operation, where: str) -> Draft202012Validator | None:
        params = operation.params.get(where) or []
        if not params:
            return None
        schema = {
            "type": "object",
            "properties": {p["name"]: _absolutize(p.get("schema", {})) for p in params},
            "required": [p["name"] for p in params if p.get("required")],
        }
        return self._validator(operation, f"params:{where}", schema)

    def _resolve_type(self, schema: dict[str, Any]) -> Any:
        while "$ref" in schema:
            name = schema["$ref"].rsplit("/", 1)[-1]
            schema = self.spec["components"]["schemas"][name]
        return schema.get("type")

    def _coerce_query(self, operation: Operation, query: dict[str, list[str]]) -> dict[str, Any]:
        """Query strings carry text; coerce declared booleans and numbers the way Discord parses them."""
        declared = {p["name"]: p.get("schema", {}) for p in operation.params.get("query") or []}
        coerced: dict[str, Any] = {}
        for name, values in query.items():
            schema = declared.get(name)
            if schema is None:
                continue  # Discord ignores query parameters it does not know.
            kind = self._resolve_type(schema)
            if kind == "array":
                coerced[name] = values
                continue
            value: Any = values[-1]
            if kind == "boolean":
                value = {"true": True, "1": True, "false": False, "0": False}.get(value.lower(), value)
            elif kind in ("integer", "number"):
                with contextlib.suppress(ValueError):
                    value = int(value) if kind == "integer" else float(value)
            coerced[name] = value
        return coerced

    def validate_request(
        self,
        operation: Operation,
        path_params: dict[str, str],
        query: dict[str, list[str]],
        media_type: str | None,
        body: Any,
    ) -> list[Problem]:
        """Problems with the path parameters, the declared query parameters and the body."""
        problems: list[Problem] = []
        for where, values in (("path", path_params), ("query", self._coerce_query(operation, query))):
            validator = self._params_validator(operation, where)
            if validator is not None:
                problems += self._problems(validator, values, prefix=(f"<{where}>",))
        content = operation.raw.get("requestBody", {}).get("content", {})
        if media_type is None:
            if operation.body_required:
                problems.append(Problem(("<body>",), "a request body is required", "BASE_TYPE_REQUIRED"))
            return problems
        if media_type not in content:
            if content:
                problems.append(
                    Problem(("<body>",), f"{media_type} is not accepted (only {sorted(content)})", "CONTENT_TYPE")
                )
            return problems
        pointer = f"{operation.pointer}/requestBody/content/{_escape(media_type)}/schema"
        validator = self._validator(operation, f"body:{media_type}", {"$ref": f"{SPEC_URI}#{pointer}"})
        return problems + self._problems(validator, body, prefix=())

    def validate_response(self, method: str, path: str, status: int, body: Any) -> list[Problem]:
        """Check a response body against the spec (used by the fake's own tests for fidelity)."""
        matched = self.match(method, path)
        if matched is None:
            return [Problem((), f"no operation for {method} {path}", "UNKNOWN_ROUTE")]
        operation = matched[0]
        responses = operation.raw.get("responses", {})
        if str(status) not in responses:
            return [Problem((), f"status {status} is not declared", "UNDECLARED_STATUS")]
        if "application/json" not in responses[str(status)].get("content", {}):
            return []
        pointer = f"{operation.pointer}/responses/{status}/content/application~1json/schema"
        validator = self._validator(operation, f"response:{status}", {"$ref": f"{SPEC_URI}#{pointer}"})
        return self._problems(validator, body, prefix=())

    def _problems(self, validator: Draft202012Validator, instance: Any, prefix: tuple[str, ...]) -> list[Problem]:
        problems: list[Problem] = []
        for error in validator.iter_errors(instance):
            problems.append(_to_problem(_narrow(error), prefix))
            if len(problems) >= MAX_REPORTED_ERRORS:
                break
        return problems


def _is_discriminator_miss(error: ValidationError) -> bool:
    """A union branch rejected only because it describes another kind of value (other `type`, or null)."""
    if error.validator == "enum" and list(error.relative_path) == ["type"]:
        return True
    return error.validator == "type" and error.validator_value == "null" and not error.relative_path


def _narrow(error: ValidationError) -> ValidationError:
    """Follow discriminated unions (components, callbacks, nullable refs) into the branch that was meant."""
    while error.validator in ("anyOf", "oneOf") and error.context:
        branches: dict[Any, list[ValidationError]] = {}
        for sub in error.context:
            branches.setdefault(sub.schema_path[0], []).append(sub)
        meant = [errs for errs in branches.values() if not any(_is_discriminator_miss(e) for e in errs)]
        if len(meant) != 1:
            break
        error = best_match(meant[0])
    return error


def _to_problem(error: ValidationError, prefix: tuple[str, ...]) -> Problem:
    location: tuple[str | int, ...] = (*prefix, *error.absolute_path)
    if error.validator == "required":
        # jsonschema reports each missing property as its own error: "'name' is a required property".
        missing = _REQUIRED.match(error.message)
        if missing:
            location = (*location, missing.group(1))
    code = _CODES.get(str(error.validator), f"SPEC_{error.validator}".upper())
    return Problem(location, _message(error), code)


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _message(error: ValidationError) -> str:
    """A short, Discord-like message; jsonschema's own would quote whole (possibly huge) instances."""
    keyword, expected, instance = error.validator, error.validator_value, error.instance
    if keyword in ("maxLength", "maxItems"):
        return f"Must be {expected} or fewer in length."
    if keyword in ("minLength", "minItems"):
        return f"Must be {expected} or more in length."
    if keyword == "required":
        return "This field is required"
    if keyword == "type":
        return f"Value {_short(instance)} is not of type {expected}."
    if keyword in ("enum", "const"):
        return f"Value {_short(instance)} must be one of {expected}."
    if keyword == "maximum":
        return f"Value {_short(instance)} should be less than or equal to {expected}."
    if keyword == "minimum":
        return f"Value {_short(instance)} should be greater than or equal to {expected}."
    if keyword == "pattern":
        return f"Value {_short(instance)} does not match {expected}."
    if keyword in ("anyOf", "oneOf"):
        branches = sorted(error.context or [], key=lambda e: -len(e.absolute_path))[:3]
        detail = "; ".join(f"{'/'.join(str(p) for p in e.relative_path) or '<value>'}: {_message(e)}" for e in branches)
        return f"Value {_short(instance)} matches none of the allowed shapes ({detail})."
    return error.message if len(error.message) <= 300 else error.message[:297] + "..."


def errors_tree(problems: list[Problem]) -> dict[str, Any]:
    """Discord's nested `errors` object: `{"field": {"0": {"_errors": [{"code", "message"}]}}}`."""
    tree: dict[str, Any] = {}
    for problem in problems:
        node = tree
        for part in problem.location:
            node = node.setdefault(str(part), {})
        node.setdefault("_errors", []).append({"code": problem.code, "message": problem.message})
    return tree
