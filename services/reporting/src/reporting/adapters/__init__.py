"""Translation from integration events, and the PostgreSQL projection store."""
