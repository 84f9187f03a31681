"""Schemathesis against the real process's /openapi.json: no input, valid or
not, gets a 5xx, and every status answered is one the document names."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error, response_schema_conformance, status_code_conformance

from tests.e2e.process import TOKEN, BotProcess

pytestmark = pytest.mark.slow
CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance]


@pytest.fixture(scope="module")
def bot(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BotProcess]:
    whatsapp = {"BUYERBOT_WHATSAPP_PHONE_ID": "123", "BUYERBOT_WHATSAPP_TOKEN": "t",
                "BUYERBOT_WHATSAPP_APP_SECRET": "s", "BUYERBOT_WHATSAPP_VERIFY_TOKEN": "v",
                "BUYERBOT_WHATSAPP_API_URL": "http://127.0.0.1:9"}  # fmt: skip
    process = BotProcess(Path(tmp_path_factory.mktemp("schemathesis")), **whatsapp).start()
    yield process
    process.stop()


@pytest.fixture(scope="module")
def api_schema(bot: BotProcess) -> schemathesis.BaseSchema:
    return schemathesis.openapi.from_url(f"{bot.url}/openapi.json")


#: examples per operation and generation mode: bounded, the whole run stays under a minute
EXAMPLES = 25


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_no_server_error_and_only_documented_statuses(
    api_schema: schemathesis.BaseSchema, mode: GenerationMode
) -> None:
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert {o.label for o in operations} >= {"POST /api/v1/events", "POST /whatsapp/webhook", "POST /chat/api/bind"}
    failures: list[str] = []
    for operation in operations:

        @given(operation.as_strategy(generation_mode=mode))
        @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck), phases=[Phase.explicit, Phase.generate])  # fmt: skip
        def call(case: schemathesis.Case) -> None:
            case.call_and_validate(headers={"Authorization": f"Bearer {TOKEN}"}, checks=CHECKS, timeout=10)

        try:
            call()
        except Unsatisfiable:
            assert mode is GenerationMode.NEGATIVE  # nothing to get wrong (no parameters, no body)
        except BaseException as exc:  # schemathesis raises an exception group
            failures.append(f"{operation.label}: {str(exc)[:1500]}")
    assert not failures, "\n\n".join(failures)


def test_order_placed_requires_buyer_items_total(api_schema: schemathesis.BaseSchema, bot: BotProcess) -> None:
    import httpx

    document = httpx.get(f"{bot.url}/openapi.json").json()
    placed = document["components"]["schemas"]["PlacedData"]
    assert set(placed["required"]) == {"buyer", "items", "total"}
    event = document["components"]["schemas"]["PlacedEvent"]
    assert event["properties"]["data"] == {"$ref": "#/components/schemas/PlacedData"}
    assert "data" in event["required"]


def test_without_the_token_every_route_answers_a_documented_status(bot: BotProcess) -> None:
    import httpx

    document = httpx.get(f"{bot.url}/openapi.json").json()
    checked = 0
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            url = bot.url + path.replace("{", "").replace("}", "")  # every path parameter: its own name
            response = httpx.request(method, url, json={} if method == "post" else None, timeout=10)
            assert response.status_code < 500, (method, path, response.text[:200])
            assert str(response.status_code) in operation["responses"], (method, path, response.status_code)
            checked += 1
            if path.startswith("/api/v1/"):
                assert response.status_code == 401, (method, path)
    assert checked >= 10
