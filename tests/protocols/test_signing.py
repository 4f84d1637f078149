"""Signed commands, lease terms and configs (protocols/contract/signing.py): the canonical
bytes are pinned, a signature survives the wire, and every change to what it covers breaks
it."""

from __future__ import annotations

import dataclasses
import hashlib
import hmac

import pytest

from protocols.contract import (
    BadSignature,
    Channel,
    Command,
    DeviceConfig,
    LeaseTerm,
    NotSigned,
    UnknownKey,
    decode,
    encode,
    signing,
)
from protocols.errors import PayloadError

MASTER = bytes(range(32))
DEVICE = "pack-0001"
KID = signing.key_id(MASTER, 1)
KEY = signing.device_key(MASTER, DEVICE, 1)
COMMAND = Command(
    cmd_id="c-18f3a2b4c5d-9f1e2a3b4c5d",
    type="set_discharge",
    args={"on": False, "emergency": False},
    issued_at=1_700_000_000_000,
    expires_at=1_700_000_300_000,
)
TERM = LeaseTerm(
    version=7,
    leased=False,
    cutoff_when_not_leased=True,
    issued_at=1_700_000_000_000,
    grace_s=60,
    lease_id="L-9",
)
CONFIG = DeviceConfig(version=3, report_interval_s=10, upload_interval_s=60)
CHANNELS = {Command: Channel.CMD, LeaseTerm: Channel.LEASE, DeviceConfig: Channel.CONFIG}


def test_the_canonical_form_is_pinned():
    # a device in the field computes exactly these bytes: this must never change in v1
    assert signing.canonical(DEVICE, COMMAND.to_wire()) == (
        b'{"args":{"emergency":false,"on":false},"cmd_id":"c-18f3a2b4c5d-9f1e2a3b4c5d",'
        b'"device_id":"pack-0001","expires_at":1700000300000,"issued_at":1700000000000,'
        b'"type":"set_discharge","v":1}'
    )
    # key order of the input does not matter; sig is never covered; UTF-8, not \u escapes
    shuffled = dict(reversed(list(COMMAND.to_wire().items())))
    assert signing.canonical(DEVICE, {**shuffled, "sig": {"kid": "x", "mac": "y"}}) == (
        signing.canonical(DEVICE, COMMAND.to_wire())
    )
    assert signing.canonical("d", {"lease_id": "Miete-ä"}) == (
        '{"device_id":"d","lease_id":"Miete-ä","v":1}'.encode()
    )


def test_the_key_derivation_and_kid_are_pinned():
    info = b"voltrent/command-key/v1\0pack-0001\x001"
    assert hmac.new(MASTER, info, hashlib.sha256).digest() == KEY
    assert hashlib.sha256(MASTER).hexdigest()[:8] + ".1" == KID
    assert signing.device_key(MASTER, DEVICE, 2) != KEY
    assert signing.device_key(MASTER, "pack-0002", 1) != KEY
    with pytest.raises(ValueError, match="at least 32"):
        signing.device_key(b"short", DEVICE, 1)


@pytest.mark.parametrize("message", [COMMAND, TERM, CONFIG], ids=["command", "lease", "config"])
def test_a_signature_survives_the_wire(message):
    signed = signing.sign(message, DEVICE, KEY, KID)
    assert signed.sig["kid"] == KID and len(signed.sig["mac"]) == 43
    received = decode(CHANNELS[type(message)], encode(signed))
    assert received == signed
    assert signing.verify(received, DEVICE, {KID: KEY}) == KID
    # signing again replaces the old signature instead of covering it
    assert signing.sign(signed, DEVICE, KEY, KID) == signed


TAMPERED_COMMANDS = {
    "type": {"type": "set_charge"},
    "args": {"args": {"on": True, "emergency": False}},
    "expires_at": {"expires_at": COMMAND.expires_at + 86_400_000},
    "issued_at": {"issued_at": COMMAND.issued_at + 1},
    "cmd_id": {"cmd_id": "c-other"},
}


@pytest.mark.parametrize("changes", TAMPERED_COMMANDS.values(), ids=TAMPERED_COMMANDS)
def test_a_tampered_command_fails(changes):
    signed = signing.sign(COMMAND, DEVICE, KEY, KID)
    with pytest.raises(BadSignature, match="bad signature"):
        signing.verify(dataclasses.replace(signed, **changes), DEVICE, {KID: KEY})


@pytest.mark.parametrize(
    "changes", [{"leased": True}, {"version": 8}, {"grace_s": 0}, {"leased_until": 1}]
)
def test_a_tampered_lease_term_fails(changes):
    signed = signing.sign(TERM, DEVICE, KEY, KID)
    with pytest.raises(BadSignature):
        signing.verify(dataclasses.replace(signed, **changes), DEVICE, {KID: KEY})


@pytest.mark.parametrize(
    "changes",
    [{"version": 2**53}, {"report_interval_s": 86_400}, {"status_interval_s": 60},
     {"thresholds": {"low_soc_percent": 5}}],
)  # fmt: skip
def test_a_tampered_config_fails(changes):
    signed = signing.sign(CONFIG, DEVICE, KEY, KID)
    with pytest.raises(BadSignature):
        signing.verify(dataclasses.replace(signed, **changes), DEVICE, {KID: KEY})


@pytest.mark.parametrize("message", [COMMAND, TERM, CONFIG], ids=["command", "lease", "config"])
def test_a_signed_payload_never_passes_on_another_channel(message):
    # the MAC does not cover the channel: the schemas being disjoint is what keeps a signed
    # lease term from being taken as a config (or any other pairing)
    wire = encode(signing.sign(message, DEVICE, KEY, KID))
    for channel in set(CHANNELS.values()) - {CHANNELS[type(message)]}:
        with pytest.raises(PayloadError):
            decode(channel, wire)


def test_another_device_another_kid_another_generation_and_no_signature_fail():
    signed = signing.sign(COMMAND, DEVICE, KEY, KID)
    # a MAC for pack-0001 on pack-0002, even where pack-0002 holds pack-0001's key
    with pytest.raises(BadSignature):
        signing.verify(signed, "pack-0002", {KID: KEY})
    other = signing.device_key(MASTER, "pack-0002", 1)
    with pytest.raises(BadSignature):
        signing.verify(signed, "pack-0002", {KID: other})
    # the kid relabelled: the device looks up another key, which does not match
    relabelled = dataclasses.replace(signed, sig={**signed.sig, "kid": "deadbeef.1"})
    with pytest.raises(UnknownKey, match=r"unknown signing key 'deadbeef\.1'"):
        signing.verify(relabelled, DEVICE, {KID: KEY})
    with pytest.raises(BadSignature):
        signing.verify(relabelled, DEVICE, {"deadbeef.1": signing.device_key(MASTER, DEVICE, 2)})
    # generation 2's key signs under kid .2; a device with only generation 1 does not know it
    rotated = signing.sign(
        COMMAND, DEVICE, signing.device_key(MASTER, DEVICE, 2), signing.key_id(MASTER, 2)
    )
    with pytest.raises(UnknownKey):
        signing.verify(rotated, DEVICE, {KID: KEY})
    # the generation-2 MAC under the generation-1 kid: wrong key
    with pytest.raises(BadSignature):
        signing.verify(dataclasses.replace(rotated, sig={**rotated.sig, "kid": KID}), DEVICE,
                       {KID: KEY})  # fmt: skip
    with pytest.raises(NotSigned, match=r"^command not signed$"):
        signing.verify(COMMAND, DEVICE, {KID: KEY})
    with pytest.raises(NotSigned, match=r"^lease term not signed$"):
        signing.verify(TERM, DEVICE, {KID: KEY})
    with pytest.raises(NotSigned, match=r"^config not signed$"):
        signing.verify(CONFIG, DEVICE, {KID: KEY})


def test_keys_are_read_as_base64_and_must_be_long_enough():
    assert signing.decode_key(signing.encode_key(KEY)) == KEY
    assert signing.decode_key(" " + signing.encode_key(KEY).rstrip("=") + "\n") == KEY
    with pytest.raises(ValueError, match="not base64"):
        signing.decode_key("not base64!")
    with pytest.raises(ValueError, match="16 bytes, at least 32 needed"):
        signing.decode_key(signing.encode_key(KEY[:16]))
