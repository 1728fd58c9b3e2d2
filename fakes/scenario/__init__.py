"""A fake Scenario API faithful to scenario-api.md: Ideogram generation, jobs, assets and a signed CDN.

Start it with `await FakeScenario(...).start()` (or serve `fake.app`), point the client at the
returned base URL, move a FakeClock to advance jobs, and inject faults with `fake.inject(Fault(...))`.
Private modules: `_fake` (state and controls), `_app` (middleware), `_routes`, `_jobs_list`,
`_inputs` (per-model validation and cost), `_state` (jobs, assets, lifecycle), `_serialize`,
`_images` (Pillow), `_faults`.
"""

from __future__ import annotations

from fakes.scenario._fake import FakeScenario
from fakes.scenario._faults import Fault, FaultKind
from fakes.scenario._inputs import MAX_PROMPT_LENGTH
from fakes.scenario._routes import MAX_UPLOAD_BYTES
from fakes.scenario._state import FakeAsset, FakeJob, GenerateCall

__all__ = [
    "MAX_PROMPT_LENGTH",
    "MAX_UPLOAD_BYTES",
    "FakeAsset",
    "FakeJob",
    "FakeScenario",
    "Fault",
    "FaultKind",
    "GenerateCall",
]
