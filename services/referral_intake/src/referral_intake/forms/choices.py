"""What the forms offer, in plain words, and what each choice means to Signpost.

The words are the person's, not the service's: nobody is asked whether they are "lonely" or "isolated"
(people put off by such labels do not refer themselves), they are asked what they would like help with,
and each answer maps to the need category triage reads.
"""

from __future__ import annotations

from signpost_contracts.vocabulary import ContactMode

# value (the need category) -> the words on the form
HELP_WITH: dict[str, str] = {
    "loneliness": "Having more people to talk to",
    "social-isolation": "Getting out and about, and finding groups or activities",
    "bereavement": "Coping after someone has died",
    "low-mood": "Feeling low, worried or stressed",
    "carer-support": "Looking after someone else",
    "financial-worries": "Money worries",
    "housing": "Worries about where I live",
    "physical-inactivity": "Getting more active",
}

FIRST_CONVERSATION: dict[ContactMode | str, str] = {
    "telephone": "A phone call",
    "online": "A video call",
    "home-visit": "A visit at home",
    "community-venue": "Meeting at a community place, like a library or cafe",
    "walk": "Chatting while we go for a walk",
    "no-preference": "I do not mind",
}

# BCP-47 tags, as connectors' languages are listed in the roster; English first because most choose it.
LANGUAGES: dict[str, str] = {
    "en": "English",
    "ar": "Arabic",
    "bn": "Bengali",
    "sgn-GB": "British Sign Language",
    "zh": "Chinese",
    "fa": "Farsi (Persian)",
    "gu": "Gujarati",
    "ku": "Kurdish",
    "pl": "Polish",
    "pt": "Portuguese",
    "pa": "Punjabi",
    "ro": "Romanian",
    "so": "Somali",
    "ti": "Tigrinya",
    "uk": "Ukrainian",
    "ur": "Urdu",
}
