"""Fuzzing every service's HTTP interface: schemathesis on each OpenAPI, and a FHIR fuzzer on intake's front door."""
