"""The part every referral form shares: who the person is, how to reach them, what they would like help with,
and their consent. Read from the posted fields into `PersonDetails`, or refused field by field.

Field ids equal the inputs' names, so the error summary links to them and a refused form comes back filled in;
the one exception is the date of birth, whose boxes the NHS.UK date input names `dob[day]`, `dob[month]` and
`dob[year]` (ids `dob-day`, `dob-month`, `dob-year`; its errors are held on `dob-day`, the first box).
Messages follow the NHS.UK style: they say what to do.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from email_validator import EmailNotValidError, validate_email

from referral_intake.domain.person import MAX_AGE_YEARS, age_on
from referral_intake.forms.choices import FIRST_CONVERSATION, HELP_WITH, LANGUAGES
from signpost_contracts.vocabulary import postcode_district
from signpost_web import FormErrors

NAME_LIMIT = 200
SHORT_TEXT_LIMIT = 200
LONG_TEXT_LIMIT = 1000
_PHONE = re.compile(r"^\+?[0-9][0-9 ()-]{8,18}[0-9]$")


@dataclass(frozen=True)
class PersonDetails:
    name: str
    birth_date: date | None
    stated_age: int | None
    postcode: str
    phone: str | None
    email: str | None
    contact_times: str | None
    first_conversation: str
    needs: tuple[str, ...]
    other_help: str | None
    language: str
    interpreter: bool
    tell_gp: bool
    gp_practice: str | None


def read_person(
    posted: Mapping[str, str], checked: Mapping[str, list[str]], today: date, errors: FormErrors
) -> PersonDetails | None:
    """The person's details, or None with `errors` holding each problem in page order.

    `checked` holds the fields that may be sent several times (the help-with checkboxes).
    """
    name = _text(posted, "name", NAME_LIMIT, errors, missing="Enter the person's full name")
    birth_date, stated_age = _age(posted, today, errors)
    postcode = _postcode(posted, errors)
    phone, email = _contact(posted, errors)
    contact_times = _text(posted, "contact-times", SHORT_TEXT_LIMIT, errors)
    first = posted.get("first-conversation", "")
    if first not in FIRST_CONVERSATION:
        errors.add("first-conversation", "Choose how the first conversation could happen")
    needs = tuple(value for value in dict.fromkeys(checked.get("help-with", [])) if value in HELP_WITH)
    other_help = _text(posted, "help-other", LONG_TEXT_LIMIT, errors)
    language = posted.get("language") or "en"
    if language not in LANGUAGES:
        errors.add("language", "Choose a language from the list")
    interpreter = posted.get("interpreter") == "yes"
    if posted.get("consent-contact") != "yes":
        errors.add("consent-contact", "Tick the box to agree to be contacted: we cannot help without it")
    gp_practice = _text(posted, "gp-practice", SHORT_TEXT_LIMIT, errors)
    if errors or name is None or postcode is None:
        return None
    return PersonDetails(
        name=name,
        birth_date=birth_date,
        stated_age=stated_age,
        postcode=postcode,
        phone=phone,
        email=email,
        contact_times=contact_times,
        first_conversation=first,
        needs=needs,
        other_help=other_help,
        language=language,
        interpreter=interpreter,
        tell_gp=posted.get("consent-gp") == "yes",
        gp_practice=gp_practice,
    )


def _text(posted: Mapping[str, str], field: str, limit: int, errors: FormErrors, *, missing: str = "") -> str | None:
    value = " ".join(posted.get(field, "").split()) if limit <= SHORT_TEXT_LIMIT else posted.get(field, "").strip()
    if not value:
        if missing:
            errors.add(field, missing)
        return None
    if len(value) > limit:
        errors.add(field, f"Shorten this to {limit} characters or fewer (it is {len(value)})")
        return None
    return value


def _age(posted: Mapping[str, str], today: date, errors: FormErrors) -> tuple[date | None, int | None]:
    parts = [posted.get(f"dob[{part}]", "").strip() for part in ("day", "month", "year")]
    age_text = posted.get("age", "").strip()
    if any(parts):
        try:
            born = date(int(parts[2]), int(parts[1]), int(parts[0]))
        except ValueError:
            errors.add("dob-day", "Date of birth must be a real date, like 27 3 1956")
            return None, None
        if born > today or age_on(born, today) > MAX_AGE_YEARS:
            errors.add("dob-day", "Date of birth must be in the past, like 27 3 1956")
            return None, None
        return born, None
    if age_text:
        if not age_text.isdigit() or not 0 < int(age_text) <= MAX_AGE_YEARS:
            errors.add("age", "Enter an age in years, like 67")
            return None, None
        return None, int(age_text)
    errors.add("dob-day", "Enter a date of birth, or an age instead")
    return None, None


def _postcode(posted: Mapping[str, str], errors: FormErrors) -> str | None:
    postcode = " ".join(posted.get("postcode", "").upper().split())
    if not postcode:
        errors.add("postcode", "Enter a postcode, like LS6 2AB")
        return None
    if postcode_district(postcode) is None or len(postcode.replace(" ", "")) < 5:
        errors.add("postcode", "Enter a full UK postcode, like LS6 2AB")
        return None
    return postcode


def _contact(posted: Mapping[str, str], errors: FormErrors) -> tuple[str | None, str | None]:
    phone = " ".join(posted.get("phone", "").split()) or None
    email = posted.get("email", "").strip() or None
    if phone is None and email is None:
        errors.add("phone", "Enter a phone number or an email address, so that we can get in touch")
        return None, None
    if phone is not None and not _PHONE.match(phone):
        errors.add("phone", "Enter a phone number, like 0113 496 0000 or 07700 900 982")
        phone = None
    if email is not None:
        try:
            email = validate_email(email, check_deliverability=False).normalized
        except EmailNotValidError:
            errors.add("email", "Enter an email address in the correct format, like name@example.com")
            email = None
    return phone, email
