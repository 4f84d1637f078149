"""Account passwords: argon2id hashes (argon2-cffi's defaults, upgraded on sign-in when those
change) and the policy a new password must meet.

Only the PHC string (``$argon2id$v=19$m=...``) is stored. Checking a sign-in against an
account that does not exist still costs one verification (``verify_nothing``), so the time
an answer takes does not tell whether a login exists.
"""

from __future__ import annotations

import functools
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

MIN_LENGTH = 12
# argon2 hashes anything, but a megabyte "password" is a cheap way to burn our CPU.
MAX_LENGTH = 1024
# Passwords of 12 characters and more that lead the leaked-password lists; shorter ones are
# refused by length already. Compared case-insensitively.
COMMON = frozenset(
    {
        "123456789012", "1234567890123", "12345678901234", "123456789123",
        "111111111111", "000000000000", "123123123123", "121212121212",
        "password1234", "password12345", "password123!", "passwordpassword",
        "qwertyuiopas", "qwerty123456", "qwertyuiop12", "qwertyuiop123",
        "1q2w3e4r5t6y", "1qaz2wsx3edc", "zaq12wsxcde3", "q1w2e3r4t5y6",
        "asdfghjkl123", "iloveyou1234", "abcdefghijkl", "abcd12345678",
        "abc123456789", "welcome12345", "letmein12345", "administrator",
        "administrator1", "changeme1234", "trustno1trustno1", "football1234",
        "baseball1234", "monkey123456", "sunshine1234", "princess1234",
        "superman1234", "starwars1234", "dragon123456", "master123456",
        "voltrent1234", "voltrent2024", "voltrent2025", "voltrent2026",
    }
)  # fmt: skip
# A generated password: 16 random bytes, URL-safe (22 characters).
GENERATED_BYTES = 16

_hasher = PasswordHasher()


@functools.cache
def _nothing() -> str:
    """What a sign-in for a login without a password is checked against (never matches);
    made at first use, not at import (an argon2 hash costs about 100 ms)."""
    return _hasher.hash(secrets.token_urlsafe(16))


def hash_password(password: str) -> str:
    """The argon2id PHC string of ``password``."""
    return _hasher.hash(password)


def verify(password_hash: str, password: str) -> bool:
    """Whether ``password`` matches ``password_hash`` (a damaged hash: no)."""
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def verify_nothing(password: str) -> bool:
    """Spend the time of one verification and answer no (a login without a password)."""
    verify(_nothing(), password)
    return False


def matches(password_hash: str | None, password: str) -> bool:
    """Whether ``password`` is the one ``password_hash`` was made from; a login without a
    password (None) costs one verification too, and never matches."""
    if password_hash is None:
        return verify_nothing(password)
    return verify(password_hash, password)


def needs_rehash(password_hash: str) -> bool:
    """Whether the hash was made with other parameters than today's (rehash on sign-in)."""
    try:
        return _hasher.check_needs_rehash(password_hash)
    except InvalidHashError:
        return True


def policy_problems(password: str, login: str) -> list[str]:
    """Why ``password`` may not be ``login``'s new password (empty: it may)."""
    found = []
    if len(password) < MIN_LENGTH:
        found.append(f"must be at least {MIN_LENGTH} characters long, got {len(password)}")
    if len(password) > MAX_LENGTH:
        found.append(f"must be at most {MAX_LENGTH} characters long")
    folded = password.casefold()
    if login and login.casefold() in folded:
        found.append("must not contain the login")
    if folded in COMMON:
        found.append("is one of the most common passwords")
    return found


def generate() -> str:
    """A random password that meets the policy (for new accounts and resets)."""
    return secrets.token_urlsafe(GENERATED_BYTES)
