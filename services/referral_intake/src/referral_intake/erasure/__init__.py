"""Erasure of a person's identifiers at a coordinator's request: the route, over erasure_service."""
