"""Password policy that depends on who the password is for.

Staff (lecturer, counselor, officer, administrator, or any superuser / ``is_staff`` user):
at least 12 characters, at least three of the four character classes (lower case, upper case,
digits, symbols), and not a common password. 等保 2.0 asks for such composition rules for the
accounts that can see other people's records.

Learners (supervised persons): at least 8 characters, not a common password, not all digits.
They sign in on their phones and should not be pushed into writing passwords down.

When the user is not known yet (``validate_password(pw)`` with no user, or a user being
created whose groups are not saved yet) the staff policy applies: the stricter rule is the
safe default.
"""

from __future__ import annotations

from functools import cache

from django.contrib.auth.password_validation import CommonPasswordValidator
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from people.roles import STAFF_ROLES

STAFF_MIN_LENGTH = 12
STAFF_MIN_CLASSES = 3
LEARNER_MIN_LENGTH = 8


@cache
def _common_validator() -> CommonPasswordValidator:
    """Django's list of 20,000 common passwords, read from disk once per process."""
    return CommonPasswordValidator()


def character_classes(password: str) -> set[str]:
    """The classes present in ``password``: lower, upper, digit, symbol.

    Every character falls in exactly one class; anything that is not a cased letter or a
    digit (punctuation, spaces, Chinese characters, …) counts as a symbol.
    """
    classes: set[str] = set()
    for ch in password:
        if ch.isdigit():
            classes.add("digit")
        elif ch.islower():
            classes.add("lower")
        elif ch.isupper():
            classes.add("upper")
        else:
            classes.add("symbol")
    return classes


def is_staff_user(user) -> bool:
    """Whether the staff policy applies to ``user`` (unknown users count as staff)."""
    if user is None or getattr(user, "pk", None) is None:
        return True
    if user.is_superuser or user.is_staff:
        return True
    return user.groups.filter(name__in=STAFF_ROLES).exists()


class RolePasswordValidator:
    """One validator, two policies: staff get the strict one, learners the gentle one."""

    @staticmethod
    def _is_common(password: str) -> bool:
        try:
            _common_validator().validate(password)
        except ValidationError:
            return True
        return False

    def staff_errors(self, password: str) -> list[ValidationError]:
        errors = []
        if len(password) < STAFF_MIN_LENGTH:
            errors.append(
                ValidationError(
                    _("Staff passwords must be at least %(min_length)d characters long."),
                    code="password_too_short",
                    params={"min_length": STAFF_MIN_LENGTH},
                )
            )
        if len(character_classes(password)) < STAFF_MIN_CLASSES:
            errors.append(
                ValidationError(
                    _(
                        "Staff passwords must mix at least three of: lower-case letters, "
                        "upper-case letters, digits and symbols."
                    ),
                    code="password_too_simple",
                )
            )
        if self._is_common(password):
            errors.append(self._common_error())
        return errors

    def learner_errors(self, password: str) -> list[ValidationError]:
        errors = []
        if len(password) < LEARNER_MIN_LENGTH:
            errors.append(
                ValidationError(
                    _("Your password must be at least %(min_length)d characters long."),
                    code="password_too_short",
                    params={"min_length": LEARNER_MIN_LENGTH},
                )
            )
        if self._is_common(password):
            errors.append(self._common_error())
        if password.isdigit():
            errors.append(
                ValidationError(
                    _("Your password cannot be only digits."),
                    code="password_entirely_numeric",
                )
            )
        return errors

    @staticmethod
    def _common_error() -> ValidationError:
        return ValidationError(
            _("This password is too common and easy to guess."),
            code="password_too_common",
        )

    def validate(self, password: str, user=None) -> None:
        if is_staff_user(user):
            errors = self.staff_errors(password)
        else:
            errors = self.learner_errors(password)
        if errors:
            raise ValidationError(errors)

    def get_help_text(self) -> str:
        return _(
            "Staff: at least 12 characters with at least three of lower-case letters, "
            "upper-case letters, digits and symbols. Supervised persons: at least 8 "
            "characters, not only digits. Common passwords are refused."
        )
