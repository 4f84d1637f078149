"""Schemas of commands and lease terms: bodies, query arguments and responses."""

from __future__ import annotations

import marshmallow as ma

from cloud.commands.states import State
from cloud.devices.schemas.devices import KINDS, check_device_id
from cloud.http.paging import PagedQueryArgs
from cloud.http.schemas import Boolean, Timestamp
from protocols.contract.commands import COMMAND_TYPES

STATES = tuple(state.value for state in State)
DEFAULT_EXPIRES_IN_S = 300
MAX_EXPIRES_IN_S = 7 * 86_400
MAX_BULK_DEVICES = 10_000
CMD_ID_PATTERN = r"^[A-Za-z0-9_.:-]{1,64}$"
_TYPES = ", ".join(COMMAND_TYPES)


class CommandBodySchema(ma.Schema):
    """What every command body says: the command, how long it may wait and why (who: the
    caller)."""

    type = ma.fields.String(required=True, metadata={"description": f"one of {_TYPES}"})
    args = ma.fields.Dict(
        keys=ma.fields.String(),
        load_default=dict,
        metadata={"description": "the type's arguments (see the contract's command catalogue)"},
    )
    expires_in_s = ma.fields.Integer(
        load_default=DEFAULT_EXPIRES_IN_S,
        validate=ma.validate.Range(min=1, max=MAX_EXPIRES_IN_S),
        metadata={"description": "seconds until the command expires (default 300, at most"
                                 " 7 days); an expired command is never sent or executed"},
    )  # fmt: skip
    reason = ma.fields.String(
        allow_none=True,
        validate=ma.validate.Length(max=500),
        metadata={"description": "why it is issued (kept with the command)"},
    )


class CommandCreateSchema(CommandBodySchema):
    """The body of POST /api/devices/{device_id}/commands."""

    cmd_id = ma.fields.String(
        validate=ma.validate.Regexp(CMD_ID_PATTERN),
        metadata={"description": "optional, for a retry-safe issue: the same cmd_id twice is a"
                                 " 409; generated when absent"},
    )  # fmt: skip


class DeviceFilterSchema(ma.Schema):
    """Devices by their registry fields and last status; at least one."""

    kind = ma.fields.String(validate=ma.validate.OneOf(KINDS))
    model = ma.fields.String(validate=ma.validate.Length(min=1, max=200))
    online = Boolean()

    @ma.validates_schema
    def _not_empty(self, data, **kwargs):
        if not data:
            raise ma.ValidationError("name at least one of kind, model, online")


class BulkCommandSchema(CommandBodySchema):
    """The body of POST /api/commands: one command for each of many devices."""

    device_ids = ma.fields.List(
        ma.fields.String(validate=check_device_id),
        validate=ma.validate.Length(min=1, max=MAX_BULK_DEVICES),
    )
    filter = ma.fields.Nested(DeviceFilterSchema)

    @ma.validates_schema
    def _one_selector(self, data, **kwargs):
        if ("device_ids" in data) == ("filter" in data):
            raise ma.ValidationError("give either device_ids or filter", "device_ids")


class CommandSchema(ma.Schema):
    """A command and where it is in its life."""

    cmd_id = ma.fields.String()
    device_id = ma.fields.String()
    type = ma.fields.String()
    args = ma.fields.Dict()
    state = ma.fields.String(
        metadata={
            "description": " -> ".join(STATES[:3]) + " | failed | rejected, or expired | cancelled"
        }
    )
    issued_by = ma.fields.String()
    reason = ma.fields.String(allow_none=True)
    created_at = Timestamp()
    expires_at = Timestamp()
    sent_at = Timestamp(allow_none=True, metadata={"description": "the latest publish"})
    send_count = ma.fields.Integer()
    cancelled_at = Timestamp(allow_none=True)
    acked_at = Timestamp(allow_none=True)
    result = ma.fields.String(allow_none=True, metadata={"description": "what the device acked"})
    result_reason = ma.fields.String(allow_none=True)
    observed = ma.fields.Dict(allow_none=True)
    progress = ma.fields.Dict(
        allow_none=True,
        metadata={"description": "the latest note of a device still waiting to apply it"},
    )
    batch_id = ma.fields.String(allow_none=True)  # fmt: skip


class CancelSchema(CommandSchema):
    """A cancelled command, and whether the device may still execute it."""

    may_still_execute = ma.fields.Boolean()
    note = ma.fields.String()


class BatchMemberSchema(ma.Schema):
    device_id = ma.fields.String()
    cmd_id = ma.fields.String()


class BatchSchema(ma.Schema):
    batch_id = ma.fields.String()
    count = ma.fields.Integer()
    commands = ma.fields.List(ma.fields.Nested(BatchMemberSchema))


class CommandHistoryArgs(PagedQueryArgs):
    state = ma.fields.String(validate=ma.validate.OneOf(STATES))


class LeaseBodySchema(ma.Schema):
    """The body of PUT /api/devices/{device_id}/lease: the whole term."""

    leased = Boolean(required=True)
    leased_until = ma.fields.AwareDateTime(
        load_default=None, allow_none=True, metadata={"description": "null: open-ended"}
    )
    grace_s = ma.fields.Integer(load_default=0, validate=ma.validate.Range(min=0, max=31_536_000))
    cutoff_when_not_leased = Boolean(required=True)
    lease_id = ma.fields.String(
        load_default=None, allow_none=True, validate=ma.validate.Length(min=1, max=64)
    )


class LeaseSchema(ma.Schema):
    """A device's lease term, and which version of it was published to the broker."""

    device_id = ma.fields.String()
    version = ma.fields.Integer(metadata={"description": "grows with every change"})
    leased = ma.fields.Boolean()
    leased_until = Timestamp(allow_none=True)
    grace_s = ma.fields.Integer()
    cutoff_when_not_leased = ma.fields.Boolean()
    lease_id = ma.fields.String(allow_none=True)
    updated_at = Timestamp()
    updated_by = ma.fields.String(allow_none=True)
    published_version = ma.fields.Integer(
        metadata={"description": "the version on down/lease (retained); 0: none yet"}
    )
    published_at = Timestamp(allow_none=True)


class CommandKeySchema(ma.Schema):
    device_id = ma.fields.String()
    kid = ma.fields.String(
        allow_none=True, metadata={"description": "'<fingerprint>.<generation>'; null: off"}
    )
    generation = ma.fields.Integer()
    signing = ma.fields.Boolean(metadata={"description": "whether the cloud signs at all"})
    key = ma.fields.String(metadata={"description": "base64; only in the answer to POST"})
    edge_toml = ma.fields.String(
        metadata={"description": "the gateway's [commands] section; only in the answer to POST"}
    )
