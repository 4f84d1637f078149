"""Ack results and reason codes (contract 1.1), and how the contract is versioned."""

import json
import re
from importlib import resources

import pytest

from protocols import contract
from protocols.contract import Ack, AckCode, AckResult, Channel, SchemaViolation, signing
from protocols.contract.schema import SCHEMA_NAMES, load_schema
from protocols.contract.topics import ROOT
from protocols.contract.version import CONTRACT_VERSION, HISTORY, MAJOR

NOW = 1_732_350_000_000


def ack_document(**fields) -> bytes:
    return json.dumps({"cmd_id": "c-1", "ts": NOW, "result": "rejected", **fields}).encode()


def test_a_code_travels_beside_the_reason():
    sent = Ack("c-1", NOW, AckResult.REJECTED, "bad signature", code=AckCode.BAD_SIGNATURE)
    wire = json.loads(contract.encode(sent))
    assert wire == {
        "cmd_id": "c-1",
        "ts": NOW,
        "result": "rejected",
        "reason": "bad signature",
        "code": "bad_signature",
    }
    received = contract.decode(Channel.ACK, contract.encode(sent))
    assert received.result is AckResult.REJECTED
    assert received.known_code() is AckCode.BAD_SIGNATURE


def test_an_ack_without_a_code_is_still_accepted():
    """A gateway from before 1.1 sends only the text."""
    received = contract.decode(Channel.ACK, ack_document(reason="command not signed"))
    assert received.code is None and received.known_code() is None
    assert received.reason == "command not signed"
    assert "code" not in Ack("c-1", NOW, AckResult.DONE).to_wire()


def test_an_unknown_code_is_kept_not_refused():
    """A newer gateway may send a code this side has not learnt."""
    received = contract.decode(Channel.ACK, ack_document(code="battery_on_fire"))
    assert received.code == "battery_on_fire"
    assert received.known_code() is None


@pytest.mark.parametrize("code", ["", "Bad", "bad-signature", "x" * 65, 7])
def test_a_code_is_a_short_snake_case_word(code):
    with pytest.raises(SchemaViolation, match=r"\$\.code"):
        contract.decode(Channel.ACK, ack_document(code=code))


def test_the_schema_knows_the_results_and_lists_every_code():
    schema = load_schema("ack")
    assert schema["properties"]["result"]["enum"] == [r.value for r in AckResult]
    described = schema["properties"]["code"]["description"]
    for code in AckCode:
        assert re.fullmatch(schema["properties"]["code"]["pattern"], code.value)
        assert re.search(rf"\b{code.value}\b", described), code


def test_the_readme_tables_every_code():
    readme = resources.files("schemas").joinpath("README.md").read_text("utf-8")
    for code in AckCode:
        assert f"| `{code.value}` |" in readme, code


def test_each_signature_refusal_names_its_code():
    assert signing.NotSigned("command not signed").code is AckCode.NOT_SIGNED
    assert signing.UnknownKey("abc.1").code is AckCode.UNKNOWN_KEY
    assert signing.BadSignature("bad signature").code is AckCode.BAD_SIGNATURE


def test_the_version_is_in_the_topics_and_the_schema_ids():
    assert HISTORY[-1][0] == CONTRACT_VERSION
    assert CONTRACT_VERSION.startswith(f"{MAJOR}.")
    assert f"vr/v{MAJOR}" == ROOT
    for name in SCHEMA_NAMES:
        assert f"/schemas/v{MAJOR}/" in load_schema(name)["$id"]
    assert contract.CONTRACT_VERSION == CONTRACT_VERSION
