"""The case API: JSON under /cases for connectors and coordinators (routes, requests, answers)."""
