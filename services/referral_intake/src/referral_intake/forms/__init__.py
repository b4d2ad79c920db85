"""The referral forms: the public self-referral, partner organisations' /refer and connectors' outreach."""
