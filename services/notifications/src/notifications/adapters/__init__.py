"""Where notifications meets the world: PostgreSQL, SMTP, templates."""
