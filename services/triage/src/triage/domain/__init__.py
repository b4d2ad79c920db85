"""Triage rules: eligibility, complexity, redirects and connector choice. Pure: no I/O, no SQL."""
