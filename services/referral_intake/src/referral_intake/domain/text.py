"""Text Signpost cannot keep, whichever door it came by (a FHIR body, the case API, a page's form)."""

from __future__ import annotations

import re

# NUL, which PostgreSQL cannot store in text or jsonb, and UTF-16 surrogates, which JSON's \u escapes
# can produce but no UTF-8 text may hold. Both would otherwise fail only when the text is stored.
UNSTORABLE = re.compile(r"[\x00\ud800-\udfff]")
