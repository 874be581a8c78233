"""The log's side of witnessing, on both stores: submissions, retries, cosignatures, quorum."""

from __future__ import annotations

import time

import pytest

from audit.checkpoint_log import log_signer, published_note
from audit.heads import latest_heads, sign_tree_head
from audit.jobs import sign_if_grown
from audit.keys import load_private_key
from audit.note import open_note
from audit.witness.state import init_state
from audit.witness_client import (
    WitnessConfigError,
    add_witness,
    annotate_heads,
    latest_signed,
    publication,
    submit_pending,
    valid_cosignatures,
    witnesses,
)
from tests import factories as f
from tests.audit.conftest import record_history
from tests.audit.witness_fixtures import served, truncate
from tests.servers import free_port


@pytest.fixture
def log_vkey() -> str:
    return log_signer(load_private_key()).vkey()


def make_witness(tmp_path, name: str, log_vkey: str):  # type: ignore[no-untyped-def]
    state = init_state(name, tmp_path / name.replace("/", "_"))
    state.add_log(log_vkey)
    return state


def test_a_signed_checkpoint_is_cosigned_by_the_witness_and_published_with_it(
    app, tmp_path, log_vkey, monkeypatch
):
    state = make_witness(tmp_path, "renda.example/w1", log_vkey)
    record_history(app)
    with served(state) as url:
        add_witness(app, state.signer.vkey(), url)
        head = sign_if_grown(app)  # signs, then submits
    stored = latest_signed(app)
    assert stored.checkpoint.tree_size == head["tree_size"]
    assert [c.witness for c in valid_cosignatures(app, stored.checkpoint)] == ["renda.example/w1"]
    note = published_note(app, stored)
    _, verified = open_note(note, [state.signer.verifier()])
    assert verified[0].name == "renda.example/w1"
    assert state.latest(stored.checkpoint.origin).tree_size == head["tree_size"]
    monkeypatch.setenv("LEDGER_WITNESS_QUORUM", "2")
    status = annotate_heads(app, latest_heads(app, 1))[0]["witnessing"]
    assert status == {"cosigned_by": ["renda.example/w1"], "witnesses": 1, "quorum": 2,
                      "published": False}  # fmt: skip
    monkeypatch.delenv("LEDGER_WITNESS_QUORUM")
    assert publication(app, stored.checkpoint)["published"] is True


def test_a_witness_down_never_blocks_recording_and_a_later_retry_succeeds(
    app, tmp_path, log_vkey, monkeypatch
):
    monkeypatch.setenv("LEDGER_WITNESS_TIMEOUT_S", "2")
    state = make_witness(tmp_path, "shenji.example/w", log_vkey)
    port = free_port()  # nothing listens there
    add_witness(app, state.signer.vkey(), f"http://127.0.0.1:{port}")
    record_history(app)
    started = time.monotonic()
    head = sign_if_grown(app)
    assert head is not None and time.monotonic() - started < 30
    assert [o.status for o in submit_pending(app)] == ["unreachable"]
    app.execute(f.enterprise(f.synthetic_uscc(7), name="上海丙公司"), "olga")  # still recorded
    assert sign_if_grown(app)["tree_size"] > head["tree_size"]
    assert valid_cosignatures(app, latest_signed(app).checkpoint) == []
    with served(state, port):
        assert sign_if_grown(app) is None  # nothing grew, but the witness is tried again
    cosigned = valid_cosignatures(app, latest_signed(app).checkpoint)
    assert [c.witness for c in cosigned] == ["shenji.example/w"]
    assert submit_pending(app) == []  # nothing left to submit


def test_a_witness_that_knows_a_later_size_gets_a_proof_from_that_size(app, tmp_path, log_vkey):
    """The log forgot what the witness cosigned (409 names its size): one retry from there."""
    state = make_witness(tmp_path, "zhengxie.example/w", log_vkey)
    record_history(app)
    first = sign_tree_head(app)
    with served(state) as url:
        from tests.audit.witness_fixtures import post

        status, _, _ = post(url + "/add-checkpoint", b"old 0\n\n" + first["checkpoint"].encode())
        assert status == 200
        add_witness(app, state.signer.vkey(), url)
        app.execute(f.enterprise(f.synthetic_uscc(7), name="上海丙公司"), "olga")
        sign_tree_head(app)
        outcomes = submit_pending(app)
    assert [o.status for o in outcomes] == ["cosigned"]
    assert outcomes[0].tree_size > first["tree_size"]


def test_a_truncated_log_re_signed_by_an_intruder_is_refused_by_the_witness(
    app, tmp_path, log_vkey, intruder
):
    state = make_witness(tmp_path, "jiwei.example/w", log_vkey)
    record_history(app)
    with served(state) as url:
        add_witness(app, state.signer.vkey(), url)
        head = sign_if_grown(app)
        size = head["tree_size"]
        truncate(intruder, app, size - 3)
        sign_tree_head(app)  # the intruder holds the log's key
        outcomes = submit_pending(app)
        assert [(o.status, o.http_status) for o in outcomes] == [("refused", 409)]
        assert "truncated" in outcomes[0].detail
        for i in range(5):  # regrow past the witnessed size with other events
            app.execute(f.enterprise(f.synthetic_uscc(100 + i), name=f"上海伪造{i}公司"), "olga")
        sign_tree_head(app)
        outcomes = submit_pending(app)
    assert [(o.status, o.http_status) for o in outcomes] == [("refused", 422)]
    assert state.latest(latest_signed(app).checkpoint.origin).tree_size == size
    assert [r["status"] for r in state.refusals()] == [409, 422]


def test_a_witness_is_configured_by_its_cosigner_key_and_url(app, tmp_path, log_vkey):
    state = make_witness(tmp_path, "renda.example/w1", log_vkey)
    with pytest.raises(WitnessConfigError) as bad:
        add_witness(app, log_vkey, "http://127.0.0.1:1")  # a log key, not a cosigner key
    assert bad.value.code == "bad_vkey"
    with pytest.raises(WitnessConfigError) as bad:
        add_witness(app, state.signer.vkey(), "ftp://x")
    assert bad.value.code == "bad_url"
    add_witness(app, state.signer.vkey(), "http://127.0.0.1:1/")
    add_witness(app, state.signer.vkey(), "http://127.0.0.1:2")
    assert [(w.name, w.url) for w in witnesses(app)] == [("renda.example/w1", "http://127.0.0.1:2")]
