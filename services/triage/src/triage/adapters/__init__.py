"""Where triage meets the outside: policy and roster files, PostgreSQL, integration events."""
