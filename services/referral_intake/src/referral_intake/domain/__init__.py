"""Pure rules of the referral front door: no I/O, no FHIR types, no SQL."""
