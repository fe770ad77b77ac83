"""Which numbers a campaign may show as its caller ID, or transfer people to.

Ofcom's rules on calling line identification: the number shown must be a UK
number that someone can call back, and never a premium-rate or other
revenue-sharing number (09, 087, 084 and 070 "personal" numbers), which would
charge the person for calling back to decline further calls.
"""

import phonenumbers
from django.core.exceptions import ValidationError

from nextsupport.identifiers import InvalidPhoneNumber, normalise_phone

_T = phonenumbers.PhoneNumberType
_RETURNABLE = {_T.FIXED_LINE, _T.MOBILE, _T.FIXED_LINE_OR_MOBILE, _T.TOLL_FREE, _T.UAN, _T.VOIP}
_REFUSED_WHY = {
    _T.PREMIUM_RATE: "a premium-rate or revenue-sharing number (09, 087, 084)",
    _T.SHARED_COST: "a shared-cost number",
    _T.PERSONAL_NUMBER: "a 070 personal number, which costs callers a premium",
    _T.PAGER: "a pager number",
    _T.VOICEMAIL: "a voicemail access number",
}


def returnable_uk_number(raw: str, *, what: str = "The caller ID") -> str:
    """The E.164 form of `raw` if it is a UK number people can call back at normal cost; ValidationError otherwise."""
    try:
        e164 = normalise_phone(raw)
    except InvalidPhoneNumber as exc:
        raise ValidationError(f"{what} is not a valid phone number: {exc.messages[0]}", code="invalid") from exc
    number = phonenumbers.parse(e164, None)
    if number.country_code != 44:
        raise ValidationError(f"{what} must be a UK number (+44).", code="not_uk")
    kind = phonenumbers.number_type(number)
    if kind in _REFUSED_WHY:
        raise ValidationError(
            f"{what} cannot be {_REFUSED_WHY[kind]}: people must be able to call back at normal cost.", code="premium"
        )
    if kind not in _RETURNABLE:
        raise ValidationError(f"{what} must be an ordinary UK landline, mobile, 03 or freephone number.", code="unreturnable")
    return e164
