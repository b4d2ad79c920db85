"""Edges of referral_intake: FHIR reading and writing, PostgreSQL, integration events."""
