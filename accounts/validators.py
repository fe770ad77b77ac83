"""Checks on what clients type into their account: company and VAT numbers, calling
hours, and a guard against card numbers being written into free text (P03)."""

import re

from django.core.exceptions import ValidationError

_COMPANY_NUMBER = re.compile(r"^(?:\d{8}|[A-Z]{2}\d{6}|[A-Z]\d{7})$")
_VAT_NUMBER = re.compile(r"^(?:GB|XI)(?:\d{9}|\d{12}|GD\d{3}|HA\d{3})$")
_DIGIT_RUN = re.compile(r"(?:\d[ -]?){13,19}")


def normalise_company_number(raw: str) -> str:
    """Companies House numbers: 8 characters, e.g. 01234567, SC123456 ('' when none given)."""
    text = re.sub(r"\s", "", raw or "").upper()
    if not text:
        return ""
    if text.isdigit() and len(text) < 8:
        text = text.zfill(8)  # people often drop the leading zeros
    if not _COMPANY_NUMBER.match(text):
        raise ValidationError(
            "Enter the 8-character Companies House number, e.g. 01234567 or SC123456, or leave it empty.",
            code="company_number",
        )
    return text


def normalise_vat_number(raw: str) -> str:
    """UK VAT registration numbers, stored with their GB/XI prefix ('' when none given)."""
    text = re.sub(r"[\s.-]", "", raw or "").upper()
    if not text:
        return ""
    if text[:2] not in ("GB", "XI"):
        text = "GB" + text
    if not _VAT_NUMBER.match(text):
        raise ValidationError(
            "Enter a UK VAT number: GB followed by 9 digits (12 for a branch), e.g. GB123456789.", code="vat_number"
        )
    return text


def _luhn_valid(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        n = int(ch)
        if i % 2:
            n = n * 2 - 9 if n > 4 else n * 2
        total += n
    return total % 10 == 0


def reject_card_numbers(value: str) -> None:
    """We never store payment card numbers, even by accident in an address box."""
    for match in _DIGIT_RUN.finditer(value or ""):
        digits = re.sub(r"\D", "", match.group())
        if 13 <= len(digits) <= 19 and _luhn_valid(digits):
            raise ValidationError(
                "This looks like a payment card number. We never store card details: please remove it.",
                code="card_number",
            )
