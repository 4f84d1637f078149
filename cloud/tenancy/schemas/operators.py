"""Schemas of operators (the tree of tenants): bodies, query arguments and responses.

Here only names and types are checked; whether a flag fits under the parent's is for
operators.py to say (it needs the parent's row), and the store's trigger says it again.
"""

from __future__ import annotations

import marshmallow as ma

from cloud.http.paging import PagedQueryArgs
from cloud.http.schemas import Boolean, Timestamp
from cloud.identity.permissions import FLAGS

_FLAG_NAMES = ", ".join(FLAGS)


def _name() -> ma.fields.String:
    return ma.fields.String(validate=ma.validate.Length(min=1, max=200))


def _flags() -> ma.fields.List:
    return ma.fields.List(
        ma.fields.String(validate=ma.validate.OneOf(FLAGS)),
        metadata={"description": f"capability flags, each also held by the parent: {_FLAG_NAMES}"},
    )


def _mfa_required() -> Boolean:
    return Boolean(
        metadata={"description": "accounts of this operator must sign in with a TOTP code"}
    )


class OperatorCreateSchema(ma.Schema):
    """The body of POST /api/operators."""

    name = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=200))
    parent_id = ma.fields.Integer(
        metadata={"description": "an operator of the caller's subtree; default: the caller's"}
    )
    flags = _flags()
    mfa_required = _mfa_required()


class OperatorUpdateSchema(ma.Schema):
    """The fields of an operator to change (PATCH); absent ones stay as they are."""

    name = _name()
    flags = _flags()
    mfa_required = _mfa_required()


class OperatorListArgs(PagedQueryArgs):
    parent_id = ma.fields.Integer(metadata={"description": "only the children of this operator"})


class OperatorSchema(ma.Schema):
    id = ma.fields.Integer()
    parent_id = ma.fields.Integer(allow_none=True)
    path = ma.fields.List(
        ma.fields.Integer(), metadata={"description": "operator ids from the root down to this one"}
    )
    depth = ma.fields.Integer(metadata={"description": "0: the platform (the root)"})
    name = ma.fields.String()
    flags = ma.fields.List(ma.fields.String())
    mfa_required = ma.fields.Boolean()
    device_count = ma.fields.Integer(metadata={"description": "devices of this operator itself"})
    store_count = ma.fields.Integer()
    account_count = ma.fields.Integer()
    sub_operator_count = ma.fields.Integer(
        metadata={"description": "direct children (0 for an account of a store: it sees none)"}
    )
    subtree_device_count = ma.fields.Integer(
        metadata={"description": "devices of this operator and every operator below it"}
    )
    subtree_online_count = ma.fields.Integer(
        metadata={"description": "of those, the ones online as their last status said"}
    )
    created_at = Timestamp()
    updated_at = Timestamp()
