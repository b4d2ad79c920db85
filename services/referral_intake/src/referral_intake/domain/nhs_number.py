"""NHS numbers: ten digits, the last a Modulus 11 check digit over the first nine.

NHS Digital's rule: weight the first nine digits 10 down to 2, sum, take the remainder mod 11
and subtract it from 11. A result of 11 means check digit 0; a result of 10 means the number
is never issued, so it is invalid whatever its last digit.
"""

from __future__ import annotations

_WEIGHTS = range(10, 1, -1)


def expected_check_digit(first_nine: str) -> int | None:
    """The check digit for nine leading digits, or None when no valid number starts with them."""
    total = sum(int(digit) * weight for digit, weight in zip(first_nine, _WEIGHTS, strict=True))
    check = 11 - total % 11
    if check == 11:
        return 0
    if check == 10:
        return None
    return check


def nhs_number_problem(value: str) -> str | None:
    """Why `value` is not a valid NHS number, in words a person can act on; None when it is valid."""
    if " " in value or "-" in value:
        return f"NHS number '{value}' contains spaces or dashes; send the 10 digits only, e.g. '9434765919'"
    if len(value) != 10 or not (value.isascii() and value.isdigit()):
        return f"NHS number '{value}' is not 10 digits; an NHS number is exactly 10 digits, e.g. '9434765919'"
    check = expected_check_digit(value[:9])
    if check is None:
        return f"NHS number '{value}' fails the Modulus 11 check (no valid NHS number starts with {value[:9]})"
    if check != int(value[9]):
        return f"NHS number '{value}' fails the Modulus 11 check digit (expected last digit {check}); check for a typo"
    return None


def is_valid_nhs_number(value: str) -> bool:
    return nhs_number_problem(value) is None
