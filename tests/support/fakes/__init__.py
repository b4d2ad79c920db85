"""In-memory units of work for testing each service's use cases without PostgreSQL (Cosmic Python style)."""
