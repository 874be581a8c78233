"""The JSON API: commands for officers, stable error codes, reading your own writes, the log
paged by position, proofs that verify."""

from __future__ import annotations

from typing import Any

import factories as f
import pytest

from audit.merkle import verify_inclusion
from projections.runner import catch_up


def test_an_officer_records_a_command_and_gets_its_log_position(client: Any, token: Any, seeded: Any) -> None:
    response = client.post("/api/v1/commands", json=f.enterprise(f.USCC_C), headers=token("olga"))
    assert response.status_code == 200, response.json
    (result,) = response.json["results"]
    assert result["ok"] and result["status"] == "recorded"
    assert result["position"] == seeded.log_position() == response.json["log_position"]
    again = client.post("/api/v1/commands", json=f.enterprise(f.USCC_C), headers=token("olga"))
    assert again.json["results"][0]["status"] == "duplicate"


def test_a_signed_in_browser_session_cannot_send_commands(as_user: Any) -> None:
    response = as_user("olga").post("/api/v1/commands", json=f.enterprise(f.USCC_C))
    assert response.status_code == 401


def test_an_officer_cannot_approve_a_payment_at_all(client: Any, token: Any) -> None:
    response = client.post("/api/v1/commands", json=f.approve("D-2"), headers=token("olga"))
    assert response.status_code == 403
    assert response.json["code"] == "forbidden"


def test_nobody_may_approve_a_payment_they_recorded(client: Any, token: Any) -> None:
    headers = token("both")  # an officer who is also an approver
    recorded = client.post(
        "/api/v1/commands", json=f.disbursement("D-3", amount_fen=100_000), headers=headers
    )
    assert recorded.status_code == 200, recorded.json
    response = client.post("/api/v1/commands", json=f.approve("D-3"), headers=headers)
    assert response.status_code == 422
    assert response.json["code"] == "self_approval"
    assert response.json["message"] and response.json["message_zh"]
    other = client.post("/api/v1/commands", json=f.approve("D-3"), headers=token("ada"))
    assert other.status_code == 200


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        (f.enterprise("91310117000000000X"), 422, "invalid_uscc"),
        ({**f.budget("B-X"), "amount_fen": 1.5}, 422, "validation_error"),
        ({**f.budget("B-X"), "surprise": 1}, 422, "validation_error"),
        ({"type": "no_such_command"}, 422, "validation_error"),
        (f.award("A-9", amount_fen=10**11), 422, "above_item_maximum"),
        (f.award("A-1", amount_fen=10_000_001), 409, "reference_conflict"),
        (f.disbursement("D-9", award_reference="NOPE"), 422, "unknown_award"),
        ([], 400, "bad_request"),
        ("just text", 400, "bad_request"),
    ],
)
def test_bad_commands_get_a_4xx_with_a_stable_code(
    client: Any, token: Any, body: Any, status: int, code: str
) -> None:
    response = client.post("/api/v1/commands", json=body, headers=token("olga"))
    assert response.status_code == status, response.json
    assert response.json["code"] == code
    assert set(response.json) >= {"code", "message", "message_zh"}


def test_a_body_that_is_not_json_is_refused(client: Any, token: Any) -> None:
    response = client.post(
        "/api/v1/commands", data="{", content_type="application/json", headers=token("olga")
    )
    assert response.status_code == 400
    assert response.json["code"] == "validation_error"


def test_a_list_of_commands_reports_each_one(client: Any, token: Any, seeded: Any) -> None:
    body = [f.enterprise(f.USCC_C), f.enterprise("91310117000000000X"), f.enterprise(f.USCC_A)]
    response = client.post("/api/v1/commands", json=body, headers=token("olga"))
    assert response.status_code == 200
    statuses = [r["status"] for r in response.json["results"]]
    assert statuses == ["recorded", "rejected", "duplicate"]
    assert response.json["results"][1]["error"]["code"] == "invalid_uscc"
    assert (response.json["recorded"], response.json["rejected"], response.json["duplicates"]) == (1, 1, 1)


def test_too_many_commands_at_once_are_refused(web_app: Any, client: Any, token: Any) -> None:
    web_app.config["LEDGER_COMMANDS_MAX"] = 2
    response = client.post("/api/v1/commands", json=[f.approve()] * 3, headers=token("olga"))
    assert response.status_code == 413
    assert response.json["code"] == "payload_too_large"


def test_a_reader_sees_its_own_write_with_min_position(client: Any, token: Any, seeded: Any) -> None:
    headers = token("olga")
    written = client.post("/api/v1/commands", json=f.award("A-5", amount_fen=3_000_000), headers=headers)
    position = written.json["log_position"]
    behind = client.get(f"/api/v1/enterprises/{f.USCC_A}?min_position={position}", headers=headers)
    assert behind.status_code == 503  # no worker runs in this test: the views stay behind
    assert behind.json["code"] == "views_behind"
    assert behind.headers["Retry-After"]
    catch_up(seeded)
    current = client.get(f"/api/v1/enterprises/{f.USCC_A}?min_position={position}", headers=headers)
    assert current.status_code == 200
    assert current.json["balances"][0]["granted_fen"] == 13_000_000


def test_a_min_position_beyond_the_log_is_refused_at_once(client: Any, token: Any) -> None:
    response = client.get("/api/v1/metrics?min_position=99999999", headers=token("vic"))
    assert response.status_code == 422
    assert response.json["code"] == "validation_error"


def test_the_log_is_paged_by_position_with_a_capped_limit(client: Any, token: Any, seeded: Any) -> None:
    headers = token("aud")  # issuing a token is an event too: bring the views up to it
    catch_up(seeded)
    positions: list[int] = []
    after = 0
    while after is not None:
        page = client.get(f"/api/v1/events?after={after}&limit=7", headers=headers).json
        positions += [e["position"] for e in page["events"]]
        after = page["next_after"]
    assert positions == list(range(1, seeded.log_position() + 1))
    too_many = client.get("/api/v1/events?limit=501", headers=headers)
    assert too_many.status_code == 422
    assert too_many.json["code"] == "validation_error"


def test_an_inclusion_proof_verifies_against_its_root(client: Any, token: Any) -> None:
    proof = client.get("/api/v1/audit/proofs/5", headers=token("aud")).json
    assert verify_inclusion(
        bytes.fromhex(proof["leaf_hash"]), proof["leaf_index"], proof["tree_size"],
        [bytes.fromhex(h) for h in proof["audit_path"]], bytes.fromhex(proof["root_hash"]),
    )  # fmt: skip
    heads = client.get("/api/v1/audit/heads", headers=token("aud")).json["heads"]
    assert heads[0]["root_hash"] == proof["root_hash"]


def test_a_proof_for_a_position_the_log_has_not_got_is_404(client: Any, token: Any) -> None:
    response = client.get("/api/v1/audit/proofs/999999", headers=token("aud"))
    assert response.status_code == 404
    assert response.json["code"] == "not_found"


def test_unknown_things_are_404_with_a_code(client: Any, token: Any) -> None:
    headers = token("vic")
    for path in ("/api/v1/enterprises/91310117000000000X", "/api/v1/measures/M99",
                 "/api/v1/towns/123", "/api/v1/nothing"):  # fmt: skip
        response = client.get(path, headers=headers)
        assert response.status_code == 404, path
        assert response.json["code"] == "not_found"


def test_the_openapi_document_is_generated_from_the_command_schemas(client: Any) -> None:
    from ledger.commands import SCHEMAS

    doc = client.get("/api/v1/openapi.json").json
    assert doc["openapi"].startswith("3.")
    components = doc["components"]["schemas"]
    for name, schema in SCHEMAS.items():
        component = components[f"Command_{name}"]
        assert set(component["properties"]) == set(schema().fields)
        assert component["properties"]["type"]["enum"] == [name]
        assert component["additionalProperties"] is False
    body = doc["paths"]["/api/v1/commands"]["post"]["requestBody"]
    assert len(body["content"]["application/json"]["schema"]["oneOf"]) == 2


def test_balances_as_of_an_earlier_position_are_replayed(client: Any, token: Any, seeded: Any) -> None:
    headers = token("vic")
    before_approval = next(
        e["position"] for e in client.get("/api/v1/events?limit=500", headers=token("aud")).json["events"]
        if e["event_type"].endswith("DisbursementApproved")
    ) - 1
    then = client.get(f"/api/v1/enterprises/{f.USCC_A}?as_of={before_approval}", headers=headers)
    now = client.get(f"/api/v1/enterprises/{f.USCC_A}", headers=headers)
    assert then.status_code == 200, then.json
    assert then.json["balances"][0]["paid_fen"] == 0
    assert now.json["balances"][0]["paid_fen"] == 5_000_000
    measure = client.get(f"/api/v1/measures/M10?as_of={before_approval}", headers=headers)
    assert measure.json["balances"][0]["paid_fen"] == 0
    bad = client.get(f"/api/v1/enterprises/{f.USCC_A}?as_of=yesterday", headers=headers)
    assert bad.status_code == 422
    assert bad.json["code"] == "validation_error"
