"""Code systems and codes this endpoint reads.

SNOMED CT codes were checked against published sources before being listed; a code we are not
sure of is left out (it then simply maps to no need) rather than guessed.
"""

from __future__ import annotations

SNOMED = "http://snomed.info/sct"
NHS_NUMBER = "https://fhir.nhs.uk/Id/nhs-number"
ODS_ORGANISATION = "https://fhir.nhs.uk/Id/ods-organization-code"
BARS_USE_CASES = "https://fhir.nhs.uk/CodeSystem/usecases-categories-bars"
# Partner organisations without an ODS code, by their id in this service's partner register (PARTNERS_FILE).
# Signpost's own system: the ids mean something only to the service that registered the partner.
PARTNER_ORGANISATION = "https://signpost.dev/fhir/Id/partner-organisation"
INTERPRETER_REQUIRED = "http://hl7.org/fhir/StructureDefinition/patient-interpreterRequired"
BCP47 = "urn:ietf:bcp:47"

NEED_CATEGORY = "https://signpost.dev/fhir/CodeSystem/need-category"
RISK_FLAG = "https://signpost.dev/fhir/CodeSystem/risk-flag"
BUSINESS_STATUS = "https://signpost.dev/fhir/CodeSystem/referral-business-status"
# The kinds of outcome a Task reports in Task.output (adapters/fhir_task.py lists the codes).
CASE_OUTPUT = "https://signpost.dev/fhir/CodeSystem/case-output"

# 871731000000106 |Referral to social prescribing service (procedure)| is the code NHS England
# asks primary care to record for a social prescribing referral. We accept no other service
# code: "Social prescribing declined" (871711000000103) is not a referral, and broader parents
# such as "Referral to service" would let referrals for other services in by mistake.
SOCIAL_PRESCRIBING_REFERRAL = "871731000000106"
ACCEPTED_SERVICE_CODES = frozenset({SOCIAL_PRESCRIBING_REFERRAL})

NEED_CATEGORIES = (
    "loneliness",
    "social-isolation",
    "bereavement",
    "low-mood",
    "carer-support",
    "financial-worries",
    "housing",
    "physical-inactivity",
    "mental-health-crisis",
)
# Carried as reasonCode codings in this system (a risk is part of why the person is referred, and
# reasonCode is where GP systems already put coded reasons) rather than in a bespoke extension.
RISK_FLAGS = (
    "self-harm-risk",
    "suicide-risk",
    "mental-health-crisis",
    "safeguarding-concern",
    "domestic-abuse",
)

# SNOMED CT findings GPs code in reasonCode, mapped to Signpost need categories.
SNOMED_NEEDS = {
    "267076002": "loneliness",  # Feeling lonely (finding)
    "422650009": "social-isolation",  # Social isolation (finding)
    "423315002": "social-isolation",  # Limited social contact (finding)
    "366979004": "low-mood",  # Depressed mood (finding)
    "160932005": "financial-worries",  # Financial problem (finding)
    "105531004": "housing",  # Housing problem (finding)
}

# ODS codes of GP practices are one letter and five digits (e.g. B86010).
GP_PRACTICE_ODS_PATTERN = r"^[A-Z][0-9]{5}$"
GENERAL_MEDICAL_PRACTICE = frozenset({"408443003", "788007007"})  # specialty / GP practice service
