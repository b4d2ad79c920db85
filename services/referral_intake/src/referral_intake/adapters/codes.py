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
# Every Task's owner (Task.owner.identifier): this service, which has no ODS code of its own.
SERVICE_IDENTIFIER_SYSTEM = "https://signpost.dev/fhir/Id/service"
SERVICE_IDENTIFIER = "signpost-community-connectors"
TASK_STATUS = "http://hl7.org/fhir/task-status"
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

# SNOMED CT findings GPs code in reasonCode, mapped to Signpost need categories. Each code added for issue 7 was
# checked against the published source named beside it; codes we could not find in a published source (for
# bereavement, for example) are left out: such a reason is kept as text on the contact card for the connector.
SNOMED_NEEDS = {
    "267076002": "loneliness",  # Feeling lonely (finding)
    "422650009": "social-isolation",  # Social isolation (finding)
    "423315002": "social-isolation",  # Limited social contact (finding)
    "366979004": "low-mood",  # Depressed mood (finding)
    "160932005": "financial-worries",  # Financial problem (finding)
    "105531004": "housing",  # Housing problem (finding)
    # NHS Digital primary care refsets HOMELESS_COD / RESNONE_COD, as published on opencodelists.org
    # (primis-covid19-vacc-uptake/homeless_cod v2.4;
    # nhsd-primary-care-domain-refsets/no-permanent-address-residency-codes)
    "32911000": "housing",  # Homeless
    "224228000": "housing",  # Living rough
    "266935003": "housing",  # Housing lack
    # PRIMIS CARER_COD, as published on codelists.opensafely.org (primis-covid19-vacc-uptake/carer/v1)
    "224484003": "carer-support",  # Patient themselves providing care
    "407542009": "carer-support",  # Informal caregiver
    "407543004": "carer-support",  # Primary caregiver
    "824401000000105": "carer-support",  # Carer of person with dementia
}

# SNOMED CT findings that are risks: mapped to Signpost's risk flags, so that a GP's ordinary coding reaches triage's
# redirect and complexity rules. Checked against published sources; no code for domestic abuse could be verified
# in one, so none is listed (a domestic-abuse risk is sent as the Signpost risk-flag coding until one is).
SNOMED_RISKS = {
    # SNOMED International, Mental and Behavioral Health clinical reference group: "Is Suicidal ideation a synonym of
    # Suicidal thoughts?" (confluence.snomedtools.org/display/MBHCRG): 6471006 |Suicidal thoughts (finding)|
    "6471006": "suicide-risk",
    # SNOMED International MBH clinical reference group, "Self Destructive Behavior v Self Harm"
    # (confluence.ihtsdotools.org/display/MBHCRG): 248062006 |Self-injurious behavior (finding)|
    "248062006": "self-harm-risk",
    # UK edition, tx-dev.fhir.org SNOMED CT browser (?id=1076171000000104):
    # |Carer behavior is cause for safeguarding concern (situation)|
    "1076171000000104": "safeguarding-concern",
}

# ODS codes of GP practices are one letter and five digits (e.g. B86010).
GP_PRACTICE_ODS_PATTERN = r"^[A-Z][0-9]{5}$"
GENERAL_MEDICAL_PRACTICE = frozenset({"408443003", "788007007"})  # specialty / GP practice service
