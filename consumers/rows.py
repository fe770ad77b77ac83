"""What an import keeps from each row, and how every value is checked.

Only the fields below can be imported (P10). Every other column is dropped
and the client is told which; columns whose names suggest special-category
data (health, religion, ethnicity...) are dropped too and may not be mapped.
Only the phone number decides whether a person is kept: a row is rejected
when its number is missing or invalid, or when a rule forbids it (under 16, a
date of birth we cannot read and so cannot check that rule with, no consent
date on a marketing list). A bad value in an optional column (e-mail, name,
postcode, time zone, consent reference) is left out and reported as a warning,
and the person is imported without it. Every problem names the row, the column
and the reason, so the client can fix the file and import it again
(re-imports update, never duplicate).
"""

import datetime
import re
import unicodedata
import zoneinfo
from dataclasses import dataclass
from functools import cache

from django.conf import settings
from django.db import models
from django.utils import timezone

from nextsupport.fields import digest
from nextsupport.identifiers import InvalidEmail, InvalidPhoneNumber, normalise_phone

from .selectors import EARLIEST_CONSENT, is_under_16


class Target(models.TextChoices):
    PHONE = "phone", "Phone number"
    NAME = "name", "Full name"
    FIRST_NAME = "first_name", "First name"
    LAST_NAME = "last_name", "Last name"
    EMAIL = "email", "E-mail address"
    DATE_OF_BIRTH = "date_of_birth", "Date of birth"
    POSTCODE = "postcode", "Postcode"
    TIMEZONE = "timezone", "Time zone"
    CONSENT_GIVEN_AT = "consent_given_at", "Consent date (marketing lists)"
    CONSENT_REFERENCE = "consent_reference", "Consent reference (marketing lists)"


CONSENT_TARGETS = {Target.CONSENT_GIVEN_AT, Target.CONSENT_REFERENCE}

# Header spellings seen in CRM and spreadsheet exports, after _simplify().
_SPELLINGS = {
    Target.PHONE: {
        "phone",
        "phone number",
        "telephone",
        "telephone number",
        "tel",
        "mobile",
        "mobile number",
        "mobile phone",
        "contact number",
        "cell",
        "cell phone",
        "msisdn",
        "landline",
        "number",
        "phone no",
    },
    Target.NAME: {"name", "full name", "contact name", "customer name", "contact"},
    Target.FIRST_NAME: {"first name", "firstname", "forename", "given name", "christian name"},
    Target.LAST_NAME: {"last name", "lastname", "surname", "family name"},
    Target.EMAIL: {"email", "e mail", "email address", "e mail address", "mail"},
    Target.DATE_OF_BIRTH: {"date of birth", "dob", "birth date", "birthdate", "birthday", "born"},
    Target.POSTCODE: {"postcode", "post code", "postal code", "zip", "zip code"},
    Target.TIMEZONE: {"timezone", "time zone", "tz"},
    Target.CONSENT_GIVEN_AT: {
        "consent date",
        "consent given",
        "consent given at",
        "consented at",
        "consent",
        "opt in date",
        "optin date",
        "marketing consent date",
    },
    Target.CONSENT_REFERENCE: {"consent reference", "consent ref", "consent source", "consent id", "crm id", "record id"},
}


def _simplify(name: str) -> str:
    return " ".join(re.sub(r"[^a-z0-9]+", " ", name.lower()).split())


# Special-category data (UK GDPR art. 9: health, racial or ethnic origin, political
# opinions, religious or philosophical beliefs, trade union membership, genetic and
# biometric data, sex life and sexual orientation) and criminal offences (art. 10).
# Headers come from CRMs and spreadsheets in every spelling ("HealthCondition",
# "mental_health", "medicalhistory", "POLITICS", "Relig."), so a header is read as
# words (camelCase and separators split) and as one run of letters (words joined).
#
# Stems are found anywhere in the run of letters: each is long and rare enough
# that no ordinary contact-list header contains it ("hospital" is not one:
# "Hospitality sector" is a business column; "mental" neither: "Supplemental").
_SPECIAL_STEMS = (
    # health
    "health", "medic", "diagnos", "illness", "disab", "pregnan", "maternit", "psychiatr", "psycholog", "therap",
    "disease", "sickness", "allerg", "symptom", "vaccin", "prescri", "wheelchair", "impairment", "diabet", "injur",
    "disorder", "cancer", "dementia", "autis", "epilep",
    # racial or ethnic origin
    "ethn", "racial", "skincolo",
    # political opinions
    "politic", "partyaffil", "partymember", "votingintention",
    # religious or philosophical beliefs
    "relig", "philosoph", "denomination",
    # trade union membership
    "tradeunion", "unionmember",
    # genetic and biometric data
    "genetic", "genom", "biometric", "fingerprint", "faceprint", "voiceprint", "facialrecog",
    # sex life and sexual orientation
    "sexual", "sexlife", "lgbt",
    # criminal convictions and offences (art. 10)
    "criminal", "convict", "offence", "offense", "offender", "arrest", "prison", "probation", "parole",
)  # fmt: skip
# Short words and abbreviations, recognised only as a whole word ("race", not
# "Tracey"), or joined to a word that says what about them is recorded ("hivstatus").
_SPECIAL_WORDS = frozenset(
    {
        "mental", "hospital", "med", "meds", "rx", "diag", "preg", "hiv", "aids", "covid", "nhs", "gp", "bmi",
        "blood", "sick", "deaf", "blind", "patient",
        "race", "caste", "tribe",
        "polit", "vote", "voting", "voter",
        "faith", "belief", "church", "mosque", "synagogue", "atheist", "muslim", "jewish",
        "hindu", "sikh", "buddhist", "union",
        "dna", "gene", "iris", "retina",
        "orientation", "gay", "lesbian",
        "crime", "crim", "dbs", "crb", "jail",
    }
)  # fmt: skip
_QUALIFIERS = frozenset(
    {
        "status", "result", "results", "test", "tests", "type", "group", "name", "number", "no", "num", "id", "code",
        "history", "hist", "info", "details", "record", "records", "notes", "flag", "date", "check", "level", "score",
    }
)  # fmt: skip
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])|(?<=[A-Za-z])(?=[0-9])|(?<=[0-9])(?=[A-Za-z])")


def _header_words(column: str) -> tuple[list[str], str]:
    """The header as lower-case words and as one run of letters, accents and width variants folded."""
    folded = unicodedata.normalize("NFKD", column)
    folded = "".join(ch for ch in folded if not unicodedata.combining(ch))
    words = re.sub(r"[^a-z0-9]+", " ", _CAMEL.sub(" ", folded).casefold()).split()
    return words, "".join(words)


def _singular(word: str) -> str:
    for ending in ("ies", "es", "s"):
        if word.endswith(ending) and len(word) - len(ending) >= 3:
            return word[: -len(ending)] + ("y" if ending == "ies" else "")
    return word


def _is_special_word(word: str) -> bool:
    if word in _SPECIAL_WORDS or _singular(word) in _SPECIAL_WORDS:
        return True
    # "hivstatus", "nhsnumber", "gpname", "racecode": a short word joined to what is recorded about it.
    return any(
        (word.startswith(short) and word[len(short) :] in _QUALIFIERS)
        or (word.endswith(short) and word[: -len(short)] in _QUALIFIERS)
        for short in _SPECIAL_WORDS
        if len(word) > len(short)
    )


def is_special_category(column: str) -> bool:
    """Whether a header names special-category or criminal-offence data (P10): such a column is never imported."""
    words, letters = _header_words(column)
    if any(stem in letters for stem in _SPECIAL_STEMS):
        return True
    return any(_is_special_word(word) for word in words) or _is_special_word(letters)


def suggest_mapping(columns: list[str]) -> dict[str, str]:
    """A first guess at which column holds what, from the header names."""
    mapping, taken = {}, set()
    for index, column in enumerate(columns):
        simple = _simplify(column)
        if is_special_category(column):
            continue
        for target, spellings in _SPELLINGS.items():
            if target not in taken and simple in spellings:
                mapping[str(index)] = target.value
                taken.add(target)
                break
    return mapping


def mapping_problems(columns: list[str], mapping: dict[str, str], *, marketing: bool) -> list[str]:
    """Why a column mapping cannot be used (empty when it can)."""
    problems = []
    targets = list(mapping.values())
    for index, target in mapping.items():
        if not _is_column_number(index) or int(index) >= len(columns):
            problems.append(f"Column {index} does not exist in the file.")
        elif target not in Target.values:
            problems.append(f"{columns[int(index)]!r} is mapped to {target!r}, which is not a field we import.")
        elif is_special_category(columns[int(index)]):
            problems.append(
                f"{columns[int(index)]!r} looks like special-category data (health, beliefs, ethnicity...); it cannot be imported."
            )
    for target in set(targets):
        if targets.count(target) > 1:
            problems.append(f"Only one column can be the {Target(target).label.lower()}.")
    if Target.PHONE not in targets:
        problems.append("Choose the column that holds the phone number.")
    if marketing and Target.CONSENT_GIVEN_AT not in targets:
        problems.append("A marketing list needs the column with the date each person consented to calls.")
    if not marketing and any(t in CONSENT_TARGETS for t in targets):
        problems.append("Consent columns apply to marketing lists only; set them to “Don't import”.")
    return problems


def _is_column_number(index: str) -> bool:
    """A column number as we write them ("0", "1", ...), and nothing else.

    Not "²" (a digit to str.isdigit, but int() refuses it), nor "٣" or "01"
    (int() reads those, but they would not match the column's key elsewhere).
    """
    return index.isascii() and index.isdigit() and str(int(index)) == index


def dropped_columns(columns: list[str], mapping: dict[str, str]) -> list[dict]:
    """Every column that will not be imported, and why (P10)."""
    return [
        {"column": name, "reason": "special_category" if is_special_category(name) else "not_needed"}
        for index, name in enumerate(columns)
        if str(index) not in mapping
    ]


@dataclass(slots=True)
class Problem:
    """A line of the error report: the row was rejected, or (`kept`) imported without the value."""

    row_number: int
    column: str
    value: str | None  # shown in the error report only when it helps fix the file
    reason: str
    kept: bool = False
    minor_phone_index: bytes | None = None  # P48: the number of a person found to be under 16
    # The row's values in the columns we import, by column number, for "Download the rejected rows".
    # Set only for rows the client can correct; never for a child's row.
    cells: dict[str, str] | None = None


@dataclass(slots=True)
class CleanRow:
    row_number: int
    phone: str
    phone_index: bytes
    name: str | None
    email: str | None
    email_index: bytes | None
    date_of_birth: datetime.date | None
    postcode: str | None
    timezone: str | None
    consent_at: datetime.datetime | None
    consent_reference: str | None
    warnings: list[Problem]


# re.ASCII: \d would also match other scripts' digits ("٢٠٢٦"), which some parsers below refuse.
_DATE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})|(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})", re.ASCII)
_TIME = re.compile(r"[T ](\d{1,2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?", re.ASCII)
_POSTCODE = re.compile(r"([A-Z]{1,2}[0-9][A-Z0-9]?)([0-9][A-Z]{2})|(GIR)(0AA)")
_SCIENTIFIC = re.compile(r"\d(\.\d+)?E\+?\d+", re.IGNORECASE)
_DATE_HELP = "use DD/MM/YYYY or YYYY-MM-DD"


@cache
def _timezones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


class RowCleaner:
    """Turns one CSV record into a CleanRow, or the Problem that says why it cannot be kept."""

    def __init__(self, columns: list[str], mapping: dict[str, str], *, marketing: bool, today: datetime.date | None = None):
        self.columns = columns
        self.width = len(columns)
        self.marketing = marketing
        self.today = today or timezone.localdate()
        self.at = {target: int(index) for index, target in mapping.items()}
        self.zone = zoneinfo.ZoneInfo(settings.TIME_ZONE)
        self.now = timezone.now()

    def _cell(self, cells: list[str], target: str) -> str:
        index = self.at.get(target)
        if index is None or index >= len(cells):
            return ""
        return cells[index].strip()

    def _column(self, target: str) -> str:
        return self.columns[self.at[target]]

    def clean(self, row_number: int, cells: list[str]) -> CleanRow | Problem:
        rejection = self._rejection(row_number, cells)
        if isinstance(rejection, Problem) and rejection.minor_phone_index is None:
            rejection.cells = {str(i): cells[i] for i in self.at.values() if i < len(cells)}
        return rejection

    def _rejection(self, row_number: int, cells: list[str]) -> CleanRow | Problem:
        if len(cells) > self.width and any(c.strip() for c in cells[self.width :]):
            return Problem(
                row_number,
                "",
                None,
                f"The row has {len(cells)} values but the header has {self.width} columns: check for a stray delimiter or quote.",
            )
        phone, problem = self._phone(self._cell(cells, Target.PHONE))
        if problem:
            return Problem(row_number, self._column(Target.PHONE), *problem)
        phone_index = digest("phone", phone)
        dob = None
        if Target.DATE_OF_BIRTH in self.at:
            raw = self._cell(cells, Target.DATE_OF_BIRTH)
            dob, problem = self._date_of_birth(raw)
            if problem:
                # Not a warning: without a readable date we cannot tell whether this is a child (P48).
                return Problem(row_number, self._column(Target.DATE_OF_BIRTH), raw, problem)
            if is_under_16(dob, today=self.today):
                # Counted, never stored: not even the value goes in the report.
                return Problem(
                    row_number,
                    self._column(Target.DATE_OF_BIRTH),
                    None,
                    "Under 16: we never hold data of people under 16. The row was not imported.",
                    minor_phone_index=phone_index,
                )
        consent_at = None
        if self.marketing:
            raw = self._cell(cells, Target.CONSENT_GIVEN_AT)
            consent_at, problem = self._consent_at(raw)
            if problem:
                return Problem(row_number, self._column(Target.CONSENT_GIVEN_AT), raw or None, problem)
        warnings: list[Problem] = []
        return CleanRow(
            row_number,
            phone,
            phone_index,
            self._kept(row_number, warnings, self._name(cells)),
            *self._email(row_number, cells, warnings),
            dob,
            self._kept(row_number, warnings, self._postcode(cells)),
            self._kept(row_number, warnings, self._timezone(cells)),
            consent_at,
            self._kept(row_number, warnings, self._reference(cells)),
            warnings,
        )

    @staticmethod
    def _kept(row_number: int, warnings: list[Problem], checked: tuple) -> str | None:
        """The value, or None with a warning: a bad optional value never costs the person their place."""
        value, problem = checked
        if problem:
            column, raw, reason = problem
            warnings.append(Problem(row_number, column, raw, reason, kept=True))
        return value

    def _email(self, row_number: int, cells, warnings: list[Problem]) -> tuple[str | None, bytes | None]:
        raw = self._cell(cells, Target.EMAIL)
        if not raw:
            return None, None
        try:
            return raw, digest("email", raw)  # normalises, and so validates
        except InvalidEmail:
            self._kept(row_number, warnings, (None, (self._column(Target.EMAIL), raw, "Not a valid e-mail address.")))
            return None, None

    def _postcode(self, cells) -> tuple[str | None, tuple | None]:
        raw = self._cell(cells, Target.POSTCODE)
        if not raw:
            return None, None
        match = _POSTCODE.fullmatch(raw.upper().replace(" ", ""))
        if not match:
            return None, (self._column(Target.POSTCODE), raw, "Not a UK postcode.")
        return " ".join(part for part in match.groups() if part), None

    def _timezone(self, cells) -> tuple[str | None, tuple | None]:
        zone = self._cell(cells, Target.TIMEZONE) or None
        if zone and zone not in _timezones():
            return None, (self._column(Target.TIMEZONE), zone, "Not a time zone name such as Europe/London.")
        return zone, None

    def _reference(self, cells) -> tuple[str | None, tuple | None]:
        reference = self._cell(cells, Target.CONSENT_REFERENCE) or None
        if reference and len(reference) > 200:
            return None, (self._column(Target.CONSENT_REFERENCE), None, "The consent reference is longer than 200 characters.")
        return reference, None

    def _phone(self, raw: str) -> tuple[str | None, tuple | None]:
        if not raw:
            return None, (None, "No phone number.")
        try:
            return normalise_phone(raw.removeprefix("'")), None
        except InvalidPhoneNumber as exc:
            reason = exc.messages[0]
            if _SCIENTIFIC.fullmatch(raw):
                reason += " The spreadsheet turned it into a formula number: format the column as text and export again."
            return None, (raw, reason)

    def _name(self, cells) -> tuple[str | None, tuple | None]:
        name = self._cell(cells, Target.NAME)
        if not name:
            name = " ".join(p for p in (self._cell(cells, Target.FIRST_NAME), self._cell(cells, Target.LAST_NAME)) if p)
        if len(name) > 200:
            column = self._column(Target.NAME) if Target.NAME in self.at else "Name"
            return None, (column, None, "The name is longer than 200 characters.")
        return name or None, None

    def _date_of_birth(self, raw: str) -> tuple[datetime.date | None, str | None]:
        if not raw:
            return None, None
        date, _ = _parse_date(raw)
        if date is None:
            return None, f"Not a date: {_DATE_HELP}."
        if date > self.today:
            return None, "The date of birth is in the future."
        if date.year < 1900:
            return None, "The date of birth is before 1900."
        return date, None

    def _consent_at(self, raw: str) -> tuple[datetime.datetime | None, str | None]:
        if not raw:
            return None, "No consent date: every row of a marketing list needs the date the person consented to calls."
        date, time = _parse_date(raw)
        if date is None:
            return None, f"Not a date: {_DATE_HELP}, optionally with a time (HH:MM)."
        moment, problem = self._with_time(date, time)
        if problem:
            return None, problem
        if moment > self.now:
            return None, "The consent date is in the future."
        if moment < EARLIEST_CONSENT:
            return None, f"The consent date is before {EARLIEST_CONSENT:%Y}: check the date."
        return moment, None

    def _with_time(self, date: datetime.date, time: re.Match | None) -> tuple[datetime.datetime | None, str | None]:
        if not time:
            return datetime.datetime.combine(date, datetime.time(), tzinfo=self.zone), None
        hour, minute, second, offset = time.groups()
        try:
            naive = datetime.datetime.combine(date, datetime.time(int(hour), int(minute), int(second or 0)))
        except ValueError:
            return None, "Not a valid time of day."
        if offset is None:
            return naive.replace(tzinfo=self.zone), None
        zone = _utc_offset(offset)
        if zone is None:
            return None, "Not a valid time zone offset: use one such as +01:00, or none for UK time."
        return naive.replace(tzinfo=zone), None


def _utc_offset(text: str) -> datetime.timezone | None:
    """The offset written as Z, +01:00 or -0530; None when no clock uses it.

    Checked here rather than left to datetime.fromisoformat, which raises on
    "+25:00" and quietly reads "-12:99" as -13:39.
    """
    if text == "Z":
        return datetime.UTC
    hours, minutes = int(text[1:3]), int(text[-2:])
    if minutes > 59 or hours * 60 + minutes > 14 * 60:  # no clock is more than 14 hours off UTC
        return None
    sign = -1 if text[0] == "-" else 1
    return datetime.timezone(sign * datetime.timedelta(hours=hours, minutes=minutes))


def _parse_date(raw: str) -> tuple[datetime.date | None, re.Match | None]:
    """YYYY-MM-DD, or the UK day-first DD/MM/YYYY (also with - or .), optionally followed by a time.

    Never the ambiguous two-digit year, and never US month-first order.
    """
    match = _DATE.match(raw)
    if not match:
        return None, None
    time = None
    if match.end() < len(raw):
        time = _TIME.fullmatch(raw, match.end())
        if time is None:
            return None, None
    year, month, day, day2, month2, year2 = match.groups()
    try:
        if year:
            return datetime.date(int(year), int(month), int(day)), time
        return datetime.date(int(year2), int(month2), int(day2)), time
    except ValueError:
        return None, None
