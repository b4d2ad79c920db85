"""Pure rules of notifications: who hears what, when a delivery exists, when to retry. No I/O."""
