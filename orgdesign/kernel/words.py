"""Small helpers for the sentences the app writes about roles, tiers and people."""

import re

# words that start with a vowel letter but a consonant sound, and the reverse; matched on the
# start of the first word, lower case
_CONSONANT_SOUND = ("one", "once", "uni", "use", "usu", "uti", "ure", "uro", "eu", "ewe")
_VOWEL_SOUND = ("hour", "honest", "honor", "honour", "heir")
# letters said with a vowel sound when an abbreviation is spelt out: "an SLA", "an FTE"
_SPELT_VOWEL = set("AEFHILMNORSX")


def a_or_an(phrase, *, start: bool = False) -> str:
    """``phrase`` with the indefinite article its first sound takes: "an Advocate Manager",
    "a Team Lead", "an SLA", "a Unit Lead", "an hour". ``start``: the article opens a
    sentence ("An Advocate Manager")."""
    text = str(phrase).strip()
    if not text:
        return text
    word = article(re.split(r"[\s,;:/()-]+", text, maxsplit=1)[0])
    return f"{word.capitalize() if start else word} {text}"


def article(word: str) -> str:
    """ "a" or "an" for ``word``."""
    if not word:
        return "a"
    if (
        len(word) > 1 and word.isupper() and word.isalpha()
    ):  # an abbreviation, said letter by letter
        return "an" if word[0] in _SPELT_VOWEL else "a"
    if word[0].isdigit():  # "an 8-hour shift", "an 11", "an 18"
        return "an" if re.match(r"(8|11|18)(\D|$)|8\d", word) else "a"
    lower = word.lower()
    if lower.startswith(_VOWEL_SOUND):
        return "an"
    if lower.startswith(_CONSONANT_SOUND):
        return "a"
    return "an" if lower[0] in "aeiou" else "a"
