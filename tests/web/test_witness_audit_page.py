"""The audit page shows, beside each signed tree head, its witnesses' cosignatures and whether
it counts as published under the quorum (in Chinese, English as the source)."""

from __future__ import annotations

from typing import Any

from audit.checkpoint_log import log_signer
from audit.heads import sign_tree_head
from audit.keys import generate_key, load_private_key
from audit.witness.state import init_state
from audit.witness_client import add_witness, submit_pending
from tests.audit.witness_fixtures import served


def test_the_audit_page_shows_each_heads_cosignatures_against_the_quorum(
    seeded: Any, as_user: Any, tmp_path: Any, monkeypatch: Any
) -> None:
    monkeypatch.setenv("LEDGER_SIGNING_KEY", str(tmp_path / "key.pem"))
    generate_key(tmp_path / "key.pem")
    monkeypatch.setenv("LEDGER_WITNESS_QUORUM", "1")
    state = init_state("renda.example/w", tmp_path / "w")
    state.add_log(log_signer(load_private_key()).vkey())
    sign_tree_head(seeded)
    with served(state) as url:
        add_witness(seeded, state.signer.vkey(), url)
        unwitnessed = as_user("aud").get("/audit").get_data(as_text=True)
        assert "见证人联署" in unwitnessed and "0/1 (法定数 1) 尚未发布" in unwitnessed
        assert [o.status for o in submit_pending(seeded)] == ["cosigned"]
    page = as_user("aud").get("/audit").get_data(as_text=True)
    assert "1/1 (法定数 1) 已发布" in page
    auditor = as_user("aud")
    auditor.get("/lang/en")
    english = auditor.get("/audit").get_data(as_text=True)
    assert "Witness cosignatures" in english and "1/1 (quorum 1) published" in english
