"""The FHIR R4 door: ServiceRequest create, read, withdrawal (update, patch), Task read and search, metadata."""
