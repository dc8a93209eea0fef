"""Password hashing (argon2id) and the department's minimum password rules."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from alpr_lib.errors import ValidationError

__all__ = ["check_password_rules", "hash_password", "verify_password"]

_VERIFIER = PasswordHasher()  # verification reads the parameters from the stored hash itself


def hash_password(password: str, *, time_cost: int = 3, memory_kib: int = 65_536) -> str:
    """argon2id hash; the defaults are argon2-cffi's RFC 9106 low-memory profile."""
    return PasswordHasher(time_cost=time_cost, memory_cost=memory_kib, parallelism=4).hash(password)


def verify_password(stored_hash: str, password: str) -> bool:
    """True when ``password`` matches; never raises for a wrong password."""
    try:
        return _VERIFIER.verify(stored_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def check_password_rules(password: str, *, username: str, min_length: int) -> None:
    """Refuse weak passwords with a message that says which rule failed."""
    if len(password) < min_length:
        raise ValidationError(f"the password must be at least {min_length} characters long")
    if not any(c.isalpha() for c in password) or not any(not c.isalpha() for c in password):
        raise ValidationError("the password must mix letters with digits or symbols")
    if username and username.lower() in password.lower():
        raise ValidationError("the password must not contain the username")
    if len(set(password)) < 5:
        raise ValidationError("the password must use at least 5 different characters")
