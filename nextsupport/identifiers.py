"""Normalisation of the identifiers people are looked up by: phone numbers and e-mails.

Every path that stores, indexes, screens or searches a phone number goes through
`normalise_phone`, so "07700 900123", "+44 7700 900123" and "447700900123" are
one number everywhere (blind index, suppression list, TPS screening).
"""

import functools
import re
import unicodedata

import idna
import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError


class InvalidPhoneNumber(ValidationError):
    """A phone number that cannot be a real, diallable number."""


class InvalidEmail(ValidationError):
    """A string that is not an e-mail address."""


# E.164 strings already proved valid. Saving a row normalises its number several
# times (the field, its blind index); parsing is the slow part, so a number
# that is already in canonical form is answered from here. Bounded: cleared
# when full, so memory stays flat during a large import. The repeats come
# within one row, so a small set serves them (200,000 entries cost ~25 MB).
_KNOWN_E164: set[str] = set()
_KNOWN_E164_LIMIT = 20_000


def normalise_phone(raw: str, region: str | None = None) -> str:
    """Return the E.164 form of `raw` (UK numbers assumed when no country code is given)."""
    text = (raw or "").strip()
    if text in _KNOWN_E164:
        return text
    if not text:
        raise InvalidPhoneNumber("Phone number is empty.", code="empty")
    if text.startswith("00"):
        text = "+" + text[2:]
    try:
        number = phonenumbers.parse(text, region or settings.PHONE_DEFAULT_REGION)
    except phonenumbers.NumberParseException as exc:
        raise InvalidPhoneNumber("Not a phone number.", code="unparseable") from exc
    if not phonenumbers.is_valid_number(number):
        raise InvalidPhoneNumber("Not a valid number for its country.", code="invalid")
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    if len(_KNOWN_E164) >= _KNOWN_E164_LIMIT:
        _KNOWN_E164.clear()
    _KNOWN_E164.add(e164)
    return e164


def display_phone(e164: str) -> str:
    """How people write a stored number: "07911 123456" at home, "+33 1 23 45 67 89" abroad."""
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    home = phonenumbers.region_code_for_number(number) == settings.PHONE_DEFAULT_REGION
    style = phonenumbers.PhoneNumberFormat.NATIONAL if home else phonenumbers.PhoneNumberFormat.INTERNATIONAL
    return phonenumbers.format_number(number, style)


# RFC 5322 atext, plus (RFC 6531) any character beyond ASCII: "zoë.brown", "用户", "δοκιμή".
_LOCAL_ATOM = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~\-\u0080-\U0010FFFF]+")
_ASCII_LABEL = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)")


# Saving a row checks its address twice (the blind index, then the encrypted field); the
# repeat comes within one row, so a small cache serves it and memory stays flat.
@functools.lru_cache(maxsize=1024)
def normalise_email(raw: str) -> str:
    """Return the address trimmed and lower-cased: one mailbox, one spelling.

    Internationalised addresses are addresses (RFC 6531): UTF-8 local parts
    ("zoë.brown@example.co.uk") and IDN domains ("info@bücher.example") pass,
    where Django's EmailValidator, written for ASCII mail, refuses most of them.
    """
    # NFC: "zoë" typed with a combining diaeresis is the same mailbox as the precomposed "zoë".
    text = unicodedata.normalize("NFC", (raw or "").strip())
    if not text:
        raise InvalidEmail("E-mail address is empty.", code="empty")
    local, at, domain = text.rpartition("@")
    if not at or not _valid_local_part(local) or not _valid_domain(domain):
        raise InvalidEmail("Not a valid e-mail address.", code="invalid")
    return text.lower()


def _valid_local_part(local: str) -> bool:
    # Dot-atoms only: quoted local parts ("a b"@x) are legal but no CRM exports them, and they hide typos.
    return 0 < len(local.encode()) <= 64 and all(_LOCAL_ATOM.fullmatch(atom) for atom in local.split("."))


def _valid_domain(domain: str) -> bool:
    """A host name with at least two labels whose top level is not a number (IDNA 2008 for non-ASCII labels)."""
    try:
        ascii_domain = idna.encode(domain.lower(), uts46=True).decode() if not domain.isascii() else domain.lower()
    except idna.IDNAError:
        return False
    labels = ascii_domain.split(".")
    return (
        len(ascii_domain) <= 253
        and len(labels) >= 2
        and all(_ASCII_LABEL.fullmatch(label) for label in labels)
        and not labels[-1].isdigit()
    )


def mask_phone(e164: str) -> str:
    """A number as someone who may not see it is shown it: enough to tell two apart, no more."""
    digits = "".join(ch for ch in (e164 or "") if ch.isdigit())
    return f"••• ••• {digits[-3:]}" if len(digits) > 3 else "•••"


def mask_email(address: str) -> str:
    """An address reduced to its first character and top-level domain: "z•••@•••.uk"."""
    local, _, domain = (address or "").rpartition("@")
    return f"{local[:1]}•••@•••.{domain.rsplit('.', 1)[-1]}" if local and domain else "•••"


NORMALISERS = {"phone": normalise_phone, "email": normalise_email}


_UK_NATIONAL_DIGITS = re.compile(r"0[1-9]\d{8,9}")


def register_number_e164(raw: str) -> str | None:
    """E.164 of a number as written in a TPS/CTPS register file; None for a line that is no number.

    Register files hold millions of UK numbers as bare national digits
    ("01134960000"). For those, E.164 is "+44" and the digits after the 0,
    exactly what normalise_phone gives for every valid number, so the
    (slow) full validation is skipped: a malformed entry only yields an index
    that no valid consumer number can match. Anything else goes the full way.
    """
    text = "".join(raw.split())
    if _UK_NATIONAL_DIGITS.fullmatch(text):
        return "+44" + text[1:]
    try:
        return normalise_phone(text)
    except InvalidPhoneNumber:
        return None
