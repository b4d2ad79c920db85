"""NHS numbers: Modulus 11 check digit, including numbers that can never be issued."""

from __future__ import annotations

import random

import pytest

from referral_intake.domain.nhs_number import expected_check_digit, is_valid_nhs_number, nhs_number_problem
from signpost_devstack.synthetic import nhs_number

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("value", ["9434765919", "9876543210", "4010232137", "9000000009", "1000000060"])
def test_numbers_with_the_right_check_digit_are_valid(value):
    assert is_valid_nhs_number(value)
    assert nhs_number_problem(value) is None


def test_a_check_digit_of_eleven_becomes_zero():
    assert expected_check_digit("100000006") == 0
    assert is_valid_nhs_number("1000000060")


def test_a_wrong_check_digit_is_named_with_the_digit_expected():
    assert not is_valid_nhs_number("9434765918")
    assert "expected last digit 9" in nhs_number_problem("9434765918")


@pytest.mark.parametrize("first_nine", ["123456789", "100000001", "100000015"])
def test_numbers_whose_check_digit_would_be_ten_are_never_valid(first_nine):
    assert expected_check_digit(first_nine) is None
    for last in "0123456789":
        assert not is_valid_nhs_number(first_nine + last)
    assert "no valid NHS number starts with" in nhs_number_problem(first_nine + "0")


@pytest.mark.parametrize(
    ("value", "hint"),
    [
        ("943476591", "not 10 digits"),
        ("94347659190", "not 10 digits"),
        ("943476591X", "not 10 digits"),
        ("\uff19434765919", "not 10 digits"),  # a full-width digit is a digit to Python, not to the NHS
        ("943 476 5919", "spaces or dashes"),
        ("943-476-5919", "spaces or dashes"),
    ],
)
def test_malformed_numbers_say_what_shape_is_expected(value, hint):
    problem = nhs_number_problem(value)
    assert problem is not None
    assert hint in problem


def test_synthetic_numbers_are_valid_and_in_the_999_test_range():
    rng = random.Random(7)
    numbers = [nhs_number(rng) for _ in range(500)]
    assert all(n.startswith("999") and is_valid_nhs_number(n) for n in numbers)
