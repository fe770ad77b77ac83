"""Forms of the campaigns portal: a campaign's settings, the script editor, caller IDs, the P16 switch,
and the results filters.

The forms collect what the client typed; the rules (which lawful basis fits
which purpose, legal calling hours, limits, the script's format) are checked
once, by the services, whose errors name the field and go back onto it.
"""

import copy
import json
import re

from django import forms
from django.core.exceptions import ValidationError

from consumers.selectors import contact_lists_for
from nextsupport.identifiers import display_phone

from . import script, selectors, services
from .models import Call, CallerId, Campaign

DAYS = [(0, "Monday"), (1, "Tuesday"), (2, "Wednesday"), (3, "Thursday"), (4, "Friday"), (5, "Saturday"), (6, "Sunday")]
_DATE = {"type": "date"}
_TIME = {"type": "time"}


class ListsWidget(forms.CheckboxSelectMultiple):
    """Each list's purpose rides on its checkbox, so the page can offer only the lists that fit the campaign's."""

    def create_option(self, name, value, label, selected, index, subindex=None, attrs=None):
        option = super().create_option(name, value, label, selected, index, subindex, attrs)
        instance = getattr(value, "instance", None)
        if instance is not None:
            option["attrs"]["data-purpose"] = instance.purpose
        return option


class ListChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        people = getattr(obj, "consumer_count", None)
        count = f", {people:,} {'person' if people == 1 else 'people'}" if people is not None else ""
        return f"{obj.name} ({obj.get_purpose_display().lower()}{count})"


class CallerIdChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.label}: {display_phone(obj.number)} ({obj.get_status_display().lower()})"


class CampaignForm(forms.Form):
    name = forms.CharField(label="Campaign name", max_length=120, help_text="For example: Boiler service follow-up, winter 2026.")
    purpose = forms.ChoiceField(label="What the calls are for", choices=Campaign.Purpose.choices, widget=forms.RadioSelect)
    lawful_basis = forms.ChoiceField(
        label="Lawful basis for the calls",
        choices=Campaign.LawfulBasis.choices,
        widget=forms.RadioSelect,
        help_text="Marketing calls rest on consent only (PECR: an AI voice is an automated call). "
        "Support follow-ups rest on the customer's contract or your legitimate interests.",
    )
    contact_lists = ListChoiceField(
        label="Contact lists",
        queryset=None,
        required=False,
        widget=ListsWidget,
        help_text="Lists of the same purpose: customer service lists for support calls, marketing lists for marketing.",
    )
    caller_id = CallerIdChoiceField(
        label="Caller ID",
        queryset=None,
        required=False,
        empty_label="Choose one later",
        help_text="The number people see and can call back. It must be verified before the campaign can launch.",
    )
    transfer_number = forms.CharField(
        label="Transfer number",
        required=False,
        max_length=32,
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "off", "inputmode": "tel"}),
        help_text="Where people who ask for a person are put through: a UK number answered by your team.",
    )
    calling_days = forms.TypedMultipleChoiceField(
        label="Calling days", choices=DAYS, coerce=int, widget=forms.CheckboxSelectMultiple, required=False
    )
    window_start = forms.TimeField(label="Calls from", widget=forms.TimeInput(attrs=_TIME, format="%H:%M"))
    window_end = forms.TimeField(
        label="Calls until",
        widget=forms.TimeInput(attrs=_TIME, format="%H:%M"),
        help_text="In each person's own local time. Marketing calls stay within 08:00 to 21:00.",
    )
    timezone = forms.CharField(
        label="Time zone", max_length=64, help_text="For people whose own time zone is not known, e.g. Europe/London."
    )
    call_on_bank_holidays = forms.BooleanField(
        label="Call on bank holidays too",
        required=False,
        help_text="Off: nobody is called on a bank holiday of the UK nation they live in.",
    )
    start_date = forms.DateField(label="Start date", required=False, widget=forms.DateInput(attrs=_DATE))
    end_date = forms.DateField(label="End date", required=False, widget=forms.DateInput(attrs=_DATE))
    max_attempts = forms.IntegerField(label="Attempts per person", help_text="From 1 to 10.")
    retry_spacing_minutes = forms.IntegerField(
        label="Minutes between attempts", help_text="At least 60. Only busy, unanswered and failed calls are tried again."
    )
    max_concurrent_calls = forms.IntegerField(
        label="Calls at once", help_text="From 1 to 200; your account's own limit, set by NextSupport, applies across campaigns."
    )
    record_calls = forms.BooleanField(
        label="Record calls",
        required=False,
        help_text=f"Off unless you need recordings. When on, every call says “{script.RECORDING_NOTICE}” "
        "straight after the AI disclosure, before anything is recorded. Recordings are kept for 6 months.",
    )

    def __init__(self, *args, organisation, campaign: Campaign | None = None, **kwargs):
        if campaign is not None:
            kwargs.setdefault("initial", initial_for(campaign))
        super().__init__(*args, **kwargs)
        self.fields["contact_lists"].queryset = contact_lists_for(organisation).order_by("name")
        self.fields["caller_id"].queryset = selectors.caller_ids_for(organisation).exclude(status=CallerId.Status.FAILED)
        if campaign is not None:
            self._fix_what_cannot_change(campaign)

    def _fix_what_cannot_change(self, campaign: Campaign) -> None:
        # A launched campaign keeps its purpose; a running one changes only a few settings until it is paused.
        if campaign.state != Campaign.State.DRAFT:
            self.fields["purpose"].disabled = True
        if campaign.state == Campaign.State.RUNNING:
            for name, field in self.fields.items():
                if name not in services.EDITABLE_WHILE_RUNNING:
                    field.disabled = True

    def purpose_rules(self) -> str:
        """For the page's script: which lawful bases and lists fit each purpose (the services' own tables)."""
        rules = {
            purpose: {"lawful_bases": list(bases), "list_purpose": services.LIST_PURPOSE[purpose]}
            for purpose, bases in services.LAWFUL_BASES.items()
        }
        return json.dumps(rules)

    def settings(self) -> dict:
        """The campaign's settings as the services take them (contact lists apart)."""
        values = {name: self.cleaned_data[name] for name in services.CAMPAIGN_FIELDS if name in self.cleaned_data}
        values["transfer_number"] = values.get("transfer_number") or None
        return values

    def changes(self) -> dict:
        """Only what the client changed: an unchanged number shown as "020 7946 0999" is not an edit of "+442079460999"."""
        return {name: value for name, value in self.settings().items() if name in self.changed_data}


def initial_for(campaign: Campaign | None) -> dict:
    """The form's starting values: the campaign's, or the model's defaults for a new one."""
    campaign = campaign or Campaign()
    values = {name: getattr(campaign, name) for name in services.CAMPAIGN_FIELDS}
    values["transfer_number"] = display_phone(campaign.transfer_number) if campaign.transfer_number else ""
    values["caller_id"] = campaign.caller_id_id
    if campaign.pk:
        values["contact_lists"] = list(campaign.contact_lists.values_list("pk", flat=True))
    return values


class CallerIdForm(forms.Form):
    number = forms.CharField(
        label="Phone number",
        max_length=32,
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "off", "inputmode": "tel"}),
        help_text="A UK landline, mobile, 03 or freephone number your business answers. Never a premium-rate number.",
    )
    label = forms.CharField(label="Name for the number", max_length=100, help_text="For example: Customer service line.")


class AutomatedDecisionsForm(forms.Form):
    reason = forms.CharField(
        label="Why this campaign needs automated decisions, and what they decide",
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Kept with the campaign, with your name and the time (P16).",
    )


class ResultsFilterForm(forms.Form):
    """The results table's filters, in the page's address: none of them is personal data."""

    outcome = forms.ChoiceField(label="Outcome", required=False)
    status = forms.ChoiceField(label="Call status", required=False)
    since = forms.DateField(label="From", required=False, widget=forms.DateInput(attrs=_DATE))
    until = forms.DateField(label="To", required=False, widget=forms.DateInput(attrs=_DATE))
    response = forms.ChoiceField(label="Answer", required=False)

    def __init__(self, *args, campaign: Campaign, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["outcome"].choices = [("", "Any outcome"), *Call.Outcome.choices, (selectors.NOT_ANSWERED, "Not answered")]
        self.fields["status"].choices = [("", "Any status"), *Call.Status.choices]
        answers = selectors.response_choices(campaign)
        self.fields["response"].choices = [("", "Any answer")] + [(f"{step}={value}", label) for step, value, label in answers]

    def clean(self):
        data = super().clean()
        if data.get("since") and data.get("until") and data["until"] < data["since"]:
            self.add_error("until", "The end of the range is before its start.")
        return data

    def filters(self) -> dict:
        if not self.is_valid():
            return {}
        data = dict(self.cleaned_data)
        step, _, value = (data.pop("response") or "").partition("=")
        return {**data, "response": (step, value) if step else None}


# --- The script editor ---------------------------------------------------------------------

# What each part of an answer is called on the page, for error messages that say where.
ANSWER_PARTS = {
    "value": "answer",
    "label": "label in results",
    "phrases": "words that mean it",
    "digit": "keypad digit",
    "next": "then",
    "outcome": "not interested",
}
STEP_PARTS = {"id": "short name", "question": "question", "answers": "answers", "otherwise": "when nothing matches"}
_PATH = re.compile(r"^steps\[(\d+)\](?:\.(\w+)(?:\[(\d+)\](?:\.(\w+))?)?)?(?:\[\d+\])?$")


def blank_answer() -> dict:
    return {"value": "", "label": "", "phrases": [], "digit": "", "next": script.CLOSING, "outcome": ""}


def blank_step(existing_ids) -> dict:
    number = len(existing_ids) + 1
    while f"step_{number}" in existing_ids:
        number += 1
    return {"id": f"step_{number}", "question": "", "answers": [blank_answer()], "otherwise": script.CLOSING}


def blank_script() -> dict:
    return {"greeting": "", "steps": [blank_step([])], "closing": ""}


class ScriptEditor:
    """A script as a form that works without JavaScript.

    Every button submits the whole form: "Add a step", "Remove answer 2 of
    step 1" and the like change the draft and show it again, nothing saved;
    "Check and preview" shows what would be said; "Save" makes a new version
    (services.script_version_save). A problem is shown on its own field and in
    the summary as "Step 2, answer 1 (words that mean it): ...".
    """

    def __init__(self, content: dict):
        self.content = content
        self.errors: dict[str, str] = {}  # field name -> message
        self.summary: list[tuple[str, str]] = []  # (field name or "", message)

    @classmethod
    def from_post(cls, data) -> "ScriptEditor":
        steps = []
        for i in range(_count(data, "step_count", script.MAX_STEPS + 1)):
            answers = [
                _answer_from(data, f"s{i}-a{j}") for j in range(_count(data, f"s{i}-answer_count", script.MAX_ANSWERS + 1))
            ]
            steps.append(
                {
                    "id": data.get(f"s{i}-id", "").strip(),
                    "question": data.get(f"s{i}-question", ""),
                    "answers": answers,
                    "otherwise": data.get(f"s{i}-otherwise", script.CLOSING),
                }
            )
        return cls({"greeting": data.get("greeting", ""), "steps": steps, "closing": data.get("closing", "")})

    def apply(self, action: str) -> bool:
        """Make the structural change a button asked for; False when `action` is not one."""
        kind, _, where = action.partition(":")
        steps = self.content["steps"]
        places = [int(n) for n in where.split(":") if n.isdigit()]
        if kind == "add_step" and len(steps) < script.MAX_STEPS:
            steps.append(blank_step({s["id"] for s in steps}))
        elif kind == "remove_step" and places and places[0] < len(steps):
            del steps[places[0]]
        elif kind == "add_answer" and places and places[0] < len(steps):
            if len(steps[places[0]]["answers"]) < script.MAX_ANSWERS:
                steps[places[0]]["answers"].append(blank_answer())
        elif kind == "remove_answer" and len(places) == 2 and places[0] < len(steps):
            answers = steps[places[0]]["answers"]
            if places[1] < len(answers):
                del answers[places[1]]
        elif kind == "example":
            self.content = copy.deepcopy(script.EXAMPLE)
        else:
            return False
        return True

    def add_errors(self, exc: ValidationError) -> None:
        if not hasattr(exc, "error_dict"):
            self.summary += [("", message) for message in exc.messages]
            return
        for path, messages in exc.message_dict.items():
            field, place = field_for(path)
            for message in messages:
                self.errors.setdefault(field, message)
                self.summary.append((field, f"{place}: {message}" if place else message))

    def steps(self) -> list[dict]:
        """The draft as the template shows it: each step with its field names, values, errors and choices."""
        ids = [step.get("id", "") for step in self.content["steps"]]
        return [self._step_view(i, step, ids) for i, step in enumerate(self.content["steps"])]

    def _step_view(self, i: int, step: dict, ids: list[str]) -> dict:
        later = [(step_id, n + 1) for n, step_id in enumerate(ids) if n > i and step_id]
        answers = []
        for j, answer in enumerate(step.get("answers", [])):
            prefix = f"s{i}-a{j}"
            answers.append(
                {
                    "number": j + 1,
                    "index": j,
                    "prefix": prefix,
                    "value": answer.get("value", ""),
                    "label": answer.get("label", ""),
                    "phrases": ", ".join(answer.get("phrases", [])),
                    "digit": answer.get("digit", ""),
                    "not_interested": answer.get("outcome") == script.NOT_INTERESTED,
                    "next_choices": _next_choices(later, answer.get("next", script.CLOSING)),
                    "errors": {part: self.errors.get(f"{prefix}-{part}") for part in ANSWER_PARTS},
                    "error": self.errors.get(prefix),
                }
            )
        return {
            "number": i + 1,
            "index": i,
            "prefix": f"s{i}",
            "id": step.get("id", ""),
            "question": step.get("question", ""),
            "answers": answers,
            "otherwise_choices": _next_choices(later, step.get("otherwise", script.CLOSING)),
            "errors": {part: self.errors.get(f"s{i}-{part}") for part in STEP_PARTS},
            "error": self.errors.get(f"s{i}"),
            "can_add_answer": len(answers) < script.MAX_ANSWERS,
        }

    @property
    def can_add_step(self) -> bool:
        return len(self.content["steps"]) < script.MAX_STEPS


def field_for(path: str) -> tuple[str, str]:
    """The field a parse error's path points at, and where it is in words:
    "steps[1].answers[0].phrases" -> ("s1-a0-phrases", "Step 2, answer 1 (words that mean it)")."""
    if path in ("greeting", "closing"):
        return path, path.capitalize()
    match = _PATH.match(path)
    if not match:
        return "", ""
    step, step_part, answer, answer_part = match.groups()
    where = f"Step {int(step) + 1}"
    if answer is not None:
        where += f", answer {int(answer) + 1}"
        part = answer_part or "value"
        return f"s{step}-a{answer}-{part}", f"{where} ({ANSWER_PARTS.get(part, part)})"
    if step_part:
        return f"s{step}-{step_part}", f"{where} ({STEP_PARTS.get(step_part, step_part)})"
    return f"s{step}", where


def _count(data, name: str, ceiling: int) -> int:
    try:
        return max(0, min(int(data.get(name, 0)), ceiling))
    except (TypeError, ValueError):
        return 0


def _answer_from(data, prefix: str) -> dict:
    phrases = [p.strip() for p in data.get(f"{prefix}-phrases", "").split(",") if p.strip()]
    return {
        "value": data.get(f"{prefix}-value", "").strip(),
        "label": data.get(f"{prefix}-label", "").strip(),
        "phrases": phrases,
        "digit": data.get(f"{prefix}-digit", "").strip(),
        "next": data.get(f"{prefix}-next", script.CLOSING),
        "outcome": script.NOT_INTERESTED if data.get(f"{prefix}-not_interested") else "",
    }


def _next_choices(later: list[tuple[str, int]], current: str) -> list[tuple[str, str, bool]]:
    """(value, label, selected) for where an answer leads: the closing, a person, or a later step."""
    choices = [(script.CLOSING, "Close the call"), (script.TRANSFER, "Put them through to a person")]
    choices += [(step_id, f"Go to step {number} ({step_id})") for step_id, number in later]
    if current not in {value for value, _ in choices}:
        # A step removed or renamed since, or an earlier one: kept, so saving names the problem.
        choices.append((current, f"Step “{current}” (not a later step)"))
    return [(value, label, value == current) for value, label in choices]
