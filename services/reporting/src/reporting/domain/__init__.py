"""Pure reporting rules: which facts each event contributes, and the status they add up to."""
