"""BaRS (NHS Booking and Referral Standard): POST /fhir/$process-message, its mapping and its answers."""
