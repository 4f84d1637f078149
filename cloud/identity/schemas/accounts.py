"""Schemas of accounts and roles: bodies, query arguments, answers, and the permission
catalogue.

A login is lower case, 3..200 characters of letters, digits and ``@._+-`` (the store's own
check, said here first so the 422 names the field); it never changes after creation.
"""

from __future__ import annotations

from typing import Any

import marshmallow as ma

from cloud.http.paging import PagedQueryArgs
from cloud.http.schemas import Boolean, Timestamp
from cloud.identity.passwords import MAX_LENGTH

LOGIN_PATTERN = r"^[a-z0-9][a-z0-9@._+-]{2,199}$"
_ROLE_IDS_HELP = "roles of the account's operator, each within what you may do yourself"


def _role_ids() -> ma.fields.List:
    return ma.fields.List(ma.fields.Integer(), metadata={"description": _ROLE_IDS_HELP})


def _unique_ids(data: dict[str, Any], key: str) -> dict[str, Any]:
    if data.get(key) is not None:
        data[key] = list(dict.fromkeys(data[key]))
    return data


class AccountListArgs(PagedQueryArgs):
    operator_id = ma.fields.Integer(
        metadata={"description": "accounts of this operator and its sub-operators"}
    )
    store_id = ma.fields.Integer(metadata={"description": "accounts of this store"})
    q = ma.fields.String(
        validate=ma.validate.Length(min=1, max=200),
        metadata={"description": "substring of the login or name (any case)"},
    )


class AccountCreateSchema(ma.Schema):
    """The body of POST /api/accounts."""

    login = ma.fields.String(
        required=True,
        validate=ma.validate.Regexp(
            LOGIN_PATTERN,
            error="3..200 characters: a-z, 0-9 and @ . _ + -, starting with a letter or digit",
        ),
        metadata={"description": "lower case; it never changes"},
    )
    name = ma.fields.String(load_default="", validate=ma.validate.Length(max=200))
    operator_id = ma.fields.Integer(
        metadata={"description": "an operator of your subtree; default: yours"}
    )
    store_id = ma.fields.Integer(
        allow_none=True,
        metadata={"description": "a store of that operator: the account then works only"
                  " with that store's devices"},
    )  # fmt: skip
    password = ma.fields.String(
        load_only=True,
        validate=ma.validate.Length(min=1, max=MAX_LENGTH),
        metadata={"description": "absent: one is generated and shown once in the answer"},
    )
    role_ids = ma.fields.List(
        ma.fields.Integer(), load_default=list, metadata={"description": _ROLE_IDS_HELP}
    )

    @ma.pre_load
    def _lower(self, data: Any, **kwargs: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("login"), str):
            data = {**data, "login": data["login"].strip().lower()}
        return data

    @ma.post_load
    def _unique(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        return _unique_ids(data, "role_ids")


class AccountUpdateSchema(ma.Schema):
    """The fields to change (PATCH); absent ones stay."""

    name = ma.fields.String(validate=ma.validate.Length(max=200))
    store_id = ma.fields.Integer(allow_none=True, metadata={"description": "null: no store"})
    role_ids = _role_ids()
    disabled = Boolean(
        metadata={"description": "true: it cannot sign in, its sessions and tokens end"}
    )
    reset_password = Boolean(
        metadata={"description": "true: a new password, shown once in the answer; its"
                  " sessions end and a lock-out is lifted"},
    )  # fmt: skip
    reset_totp = Boolean(
        metadata={"description": "true: remove its second factor (a lost phone); its sessions"
                  " end, and it enrols again at sign-in if its operator requires one"},
    )  # fmt: skip

    @ma.post_load
    def _unique(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        return _unique_ids(data, "role_ids")


class RoleBriefSchema(ma.Schema):
    id = ma.fields.Integer()
    name = ma.fields.String()


class AccountSchema(ma.Schema):
    """An account as the API shows it (never its password or TOTP secret)."""

    id = ma.fields.Integer()
    login = ma.fields.String()
    name = ma.fields.String()
    operator_id = ma.fields.Integer()
    store_id = ma.fields.Integer(allow_none=True)
    roles = ma.fields.List(ma.fields.Nested(RoleBriefSchema))
    totp_enabled = ma.fields.Boolean(metadata={"description": "a second factor is in force"})
    totp_pending = ma.fields.Boolean(
        metadata={"description": "a new one is enrolled and waits to be confirmed"}
    )
    disabled = ma.fields.Boolean()
    disabled_at = Timestamp(allow_none=True)
    locked_until = Timestamp(
        allow_none=True, metadata={"description": "locked out after failed sign-ins until"}
    )
    failed_sign_ins = ma.fields.Integer()
    last_sign_in_at = Timestamp(allow_none=True)
    password_changed_at = Timestamp(allow_none=True)
    created_at = Timestamp()
    updated_at = Timestamp()


class AccountWithPasswordSchema(AccountSchema):
    """An account and its generated password (create without one, reset_password), and
    how many of its sessions and tokens a change ended."""

    password = ma.fields.String(
        metadata={"description": "only when generated now: pass it on, it is not shown again"}
    )
    revoked = ma.fields.Integer(
        metadata={"description": "sessions and tokens ended by disabling it or a reset"}
    )


class RevokedSchema(ma.Schema):
    revoked = ma.fields.Integer(metadata={"description": "sessions and tokens revoked"})


def _permissions(required: bool = False) -> ma.fields.List:
    return ma.fields.List(
        ma.fields.String(validate=ma.validate.Length(min=1, max=100)),
        required=required,
        metadata={"description": "names from GET /api/permissions, or '*': everything the"
                  " operator's flags allow"},
    )  # fmt: skip


def _unique_permissions(data: dict[str, Any]) -> dict[str, Any]:
    if data.get("permissions") is not None:
        data["permissions"] = sorted(set(data["permissions"]))
    return data


class RoleListArgs(PagedQueryArgs):
    operator_id = ma.fields.Integer(metadata={"description": "roles of this operator"})


class RoleCreateSchema(ma.Schema):
    """The body of POST /api/roles."""

    operator_id = ma.fields.Integer(
        metadata={"description": "an operator of your subtree; default: yours"}
    )
    name = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=100))
    description = ma.fields.String(load_default="", validate=ma.validate.Length(max=500))
    permissions = _permissions(required=True)

    @ma.post_load
    def _unique(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        return _unique_permissions(data)


class RoleUpdateSchema(ma.Schema):
    """The fields to change (PATCH); absent ones stay."""

    name = ma.fields.String(validate=ma.validate.Length(min=1, max=100))
    description = ma.fields.String(validate=ma.validate.Length(max=500))
    permissions = _permissions()

    @ma.post_load
    def _unique(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        return _unique_permissions(data)


class RoleSchema(ma.Schema):
    id = ma.fields.Integer()
    operator_id = ma.fields.Integer()
    name = ma.fields.String()
    description = ma.fields.String()
    permissions = ma.fields.List(ma.fields.String())
    builtin = ma.fields.Boolean(metadata={"description": "made with the operator; read-only"})
    accounts = ma.fields.Integer(metadata={"description": "how many accounts hold it"})
    created_at = Timestamp()
    updated_at = Timestamp()


class PermissionSchema(ma.Schema):
    name = ma.fields.String()
    description = ma.fields.String()
    flag = ma.fields.String(
        allow_none=True, metadata={"description": "the operator flag it needs; null: none"}
    )
    platform_only = ma.fields.Boolean(metadata={"description": "the root operator's only"})
    operator_wide = ma.fields.Boolean(
        metadata={"description": "acts on the whole operator: no account of a store has it"}
    )


class FlagSchema(ma.Schema):
    name = ma.fields.String()
    description = ma.fields.String()


class CatalogueSchema(ma.Schema):
    permissions = ma.fields.List(ma.fields.Nested(PermissionSchema))
    flags = ma.fields.List(ma.fields.Nested(FlagSchema))
