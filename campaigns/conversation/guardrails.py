"""The deterministic rules checked first on every turn, whatever generates the replies.

What the person said is checked for, in this order:

1. an opt-out ("stop", "don't call me", "take me off your list", the keypad STOP_DIGIT):
   the call confirms, ends, and the number is suppressed (P40, P49);
2. a request for a person ("speak to a person", "human", "agent", PERSON_DIGIT): the
   call is transferred (P50);
3. a question about what is calling ("are you a robot?", "is this a real person?",
   "who is this?"): the disclosure is restated truthfully (P50, P52).

Where a phrase is ambiguous the rules err towards honouring the person: a false
opt-out loses one contact for one client, a missed one calls someone who said no
(and breaks PECR); a spurious transfer costs a minute of a person's time, a missed
one leaves someone unable to reach a human. So negation is honoured only for the
bare word "stop" ("don't stop", "won't stop") and a few nouns ("bus stop",
"non-stop"); "don't stop calling me" still opts out, and punctuation only ever
separates words (an ASR "Don't. Stop." opts out).

Every line the agent speaks that the platform did not write passes `guard_reply`.
"""

import re

from campaigns.script import CLAIMS_TO_BE_HUMAN, PERSON_DIGIT, STOP_DIGIT, Script

MAX_REPLY_CHARS = 300

# --- Normalising what was heard -----------------------------------------------------

_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "`": "'", "\u00b4": "'"})
# Specific forms first: "won't" must not become "wo not".
_EXPANSIONS = (
    ("won't", "will not"),
    ("can't", "can not"),
    ("cannot", "can not"),
    ("shan't", "shall not"),
    ("ain't", "is not"),
    ("n't", " not"),
    ("'m", " am"),
    ("'re", " are"),
    ("'ve", " have"),
    ("'ll", " will"),
)
# The same contractions typed or transcribed without an apostrophe ("'s" stays
# unexpanded above because it is as often a possessive).
_BARE_CONTRACTIONS = {
    "dont": "do not",
    "doesnt": "does not",
    "didnt": "did not",
    "cant": "can not",
    "wont": "will not",
    "isnt": "is not",
    "arent": "are not",
    "wasnt": "was not",
    "werent": "were not",
    "couldnt": "could not",
    "wouldnt": "would not",
    "shouldnt": "should not",
    "im": "i am",
    "youre": "you are",
    "ive": "i have",
    "whos": "who is",
    "whats": "what is",
    "thats": "that is",
}
CLAUSE = "|"


def normalise(text: str) -> str:
    """Lower-case words separated by single spaces, contractions expanded, CLAUSE where punctuation was."""
    text = (text or "").lower().translate(_APOSTROPHES)
    for short, long in _EXPANSIONS:
        text = text.replace(short, long)
    text = re.sub(r"[.,!?;:]+", f" {CLAUSE} ", text.replace("'", ""))
    words = re.sub(rf"[^a-z0-9{re.escape(CLAUSE)}]+", " ", text).split()
    words = " ".join(_BARE_CONTRACTIONS.get(word, word) for word in words).split()
    return " ".join(_without_repeated_clauses(words))


def _without_repeated_clauses(words: list[str]) -> list[str]:
    kept = [w for i, w in enumerate(words) if w != CLAUSE or (i and words[i - 1] != CLAUSE)]
    while kept and kept[0] == CLAUSE:
        kept.pop(0)
    while kept and kept[-1] == CLAUSE:
        kept.pop()
    return kept


def _flat(normalised: str) -> str:
    return " ".join(w for w in normalised.split() if w != CLAUSE)


# --- Opt-out ------------------------------------------------------------------------

# Phrases that opt out wherever they appear, negated or not ("don't stop calling me" included).
_CALL = r"(?:call|calling|ring|ringing|phone|phoning|contact|contacting)"
_LIST = r"(?:list|lists|database|system|records|calling list|call list|books)"
_OPT_OUT = re.compile(
    r"\b(?:"
    rf"stop (?:{_CALL}|bothering)"
    rf"|do not (?:{_CALL}|bother me)"
    rf"|never {_CALL} (?:me|us|this number|here|again)"
    rf"|(?:told|asked) (?:you )?not to {_CALL}|not to {_CALL} (?:me|us|this number|here|again)"
    rf"|(?:do not|never) want you (?:to )?{_CALL}"
    r"|(?:do not|never) want (?:to be|being) (?:called|rung|phoned|contacted)"
    r"|(?:do not|never) want (?:any |any more |anymore |these |your |more |the )?(?:phone )?calls"
    r"|no more (?:phone )?calls"
    r"|remove (?:me|us|my (?:number|details|name)|our (?:number|details)|this number)"
    rf"|removed? from (?:your|the|this|all your|all) {_LIST}"
    r"|take (?:me|us|my (?:number|details|name)|our (?:number|details)|this number) off"
    rf"|off (?:your|the|this) {_LIST}"
    r"|(?:delete|erase) (?:my|our) (?:number|details|data)"
    r"|unsubscribe|opt (?:me |us )?out|optout"
    r"|leave (?:me|us) alone"
    r"|telephone preference service|ctps|tps|t p s"
    r")\b"
)
# "stop" on its own opts out (the options line tells people to say it), except
# right after these words, where it is negated or a noun...
_STOP_NEGATED_OR_A_NOUN_AFTER = frozenset(
    {"not", "never", "non", "bus", "full", "pit", "truck", "tram", "rest", "request", "next", "last", "one", "door"}
)
# ...or right before these ("stop by", "stop sign").
_STOP_A_NOUN_BEFORE = frozenset({"by", "sign", "signs", "watch", "gap", "start"})


def is_opt_out(text: str) -> bool:
    """Whether `text`, something the person said, asks the client to stop calling."""
    normalised = normalise(text)
    if _OPT_OUT.search(_flat(normalised)):
        return True
    return any(_says_stop(clause.split()) for clause in normalised.split(CLAUSE))


def _says_stop(words: list[str]) -> bool:
    for i, word in enumerate(words):
        if word != "stop":
            continue
        before = words[i - 1] if i else ""
        after = words[i + 1] if i + 1 < len(words) else ""
        if before not in _STOP_NEGATED_OR_A_NOUN_AFTER and after not in _STOP_A_NOUN_BEFORE:
            return True
    return False


def missed_opt_out(transcript_lines: list[str]) -> bool:
    """The post-call scan: did the person, in any of these lines they said, opt out?

    Run after each call over the person's side of the transcript: speech the
    engine never judged (said over the agent on a streaming transport, during a
    transfer, in a turn that failed) is caught here by the same rules.
    """
    return any(is_opt_out(line) for line in transcript_lines if isinstance(line, str))


# --- Asking what is calling, and asking for a person -------------------------------

_ASKS_IF_AI = re.compile(
    r"\b(?:are you|is this|is that|is it|you are"
    r"|am i (?:talking|speaking) (?:to|with)|are we (?:talking|speaking) (?:to|with))"
    r" (?:a |an )?(?:real |actual |live |proper )?"
    r"(?:robot|bot|machine|computer|human(?: being)?|person|ai|a i|artificial intelligence"
    r"|recording|recorded message|automated(?: call| message| system)?|automatic|real(?: person)?)\b"
    r"|\bwho (?:is|are) (?:this|you|calling|speaking)\b"
    r"|\bwho am i (?:talking|speaking) (?:to|with)\b"
)
_PERSON = re.compile(
    r"\b(?:person|human|humans|agent|operator|representative|advisor|adviser|real people"
    r"|someone real|somebody real|real someone"
    r"|(?:talk|speak) (?:to|with) (?:someone|somebody|anyone|anybody|staff|your team)"
    r"|put me through|transfer me)\b"
)
# Words that contain a person-word without asking for one.
_NOT_A_PERSON_REQUEST = re.compile(
    r"\b(?:in person|(?:estate|letting|travel|insurance|secret) agents?|human (?:error|resources|rights))\b"
)


def asks_if_ai(text: str) -> bool:
    return bool(_ASKS_IF_AI.search(_flat(normalise(text))))


def asks_for_person(text: str) -> bool:
    """A request for a person, not counting the person-words inside "are you a real person?"."""
    flat = _ASKS_IF_AI.sub(" ", _flat(normalise(text)))
    return bool(_PERSON.search(_NOT_A_PERSON_REQUEST.sub(" ", flat)))


def wants_opt_out(speech: str, digits: str) -> bool:
    # Any STOP_DIGIT in what was keyed counts: a "19" is more likely a 9 meant than a mistake.
    return STOP_DIGIT in digits or is_opt_out(speech)


def wants_person(speech: str, digits: str) -> bool:
    return PERSON_DIGIT in digits or asks_for_person(speech)


def ai_reminder(client: str) -> str:
    """The disclosure restated mid-call, true whichever way the question was put."""
    return (
        f"I'm an automated AI assistant calling on behalf of {client}, not a person. "
        f"To speak to a person, say 'person' or press {PERSON_DIGIT}."
    )


# --- What the agent says -------------------------------------------------------------

# CLAIMS_TO_BE_HUMAN (the script editor's rule) misses a few short forms a generator might produce.
_ALSO_CLAIMS_TO_BE_HUMAN = re.compile(
    r"\bi am (?:a |an )?(?:human|person|real)\b|\b(?:am|is) not (?:a |an )?(?:ai|a i|robot|bot|machine|automated)\b"
)
_ASKS_FOR_SECRETS = re.compile(
    r"\b(?:(?:credit|debit|payment|bank) cards?|card (?:number|details|digits)|long number on"
    r"|cvv|cvc|cv2|security code|expiry date|sort code|iban"
    r"|bank(?:ing)? (?:details|account|login)"
    r"|pass(?:word|words|code|codes|phrase)|pin (?:number|code)|your pin|memorable (?:word|information)"
    r"|one time (?:pass)?code|verification code)\b"
)


def refusal_of_secrets() -> str:
    return "For your security, I won't ask for card details, bank details or passwords on this call."


def guard_reply(text: str, script: Script, *, limit: int = MAX_REPLY_CHARS) -> str:
    """`text` made safe to speak, at most `limit` characters, cut at a sentence boundary.

    A line that claims to be human, or that mentions card or bank details or
    passwords (asking or not: telling the two apart is not worth the risk), is
    replaced whole by the platform's own line, which is said in full.
    """
    text = _speakable(text)
    if not text:
        return ""
    if _claims_to_be_human(text):
        return ai_reminder(script.client_name)
    if _ASKS_FOR_SECRETS.search(_flat(normalise(text))):
        return refusal_of_secrets()
    return _shortened(text, limit)


def _speakable(text: str) -> str:
    # Text-to-speech reads markup aloud ("asterisk asterisk"); generators love markdown.
    return " ".join(re.sub(r"[*_#`<>\[\]{}|~]", " ", text or "").split())


def _claims_to_be_human(text: str) -> bool:
    plain = text.translate(_APOSTROPHES)
    return bool(CLAIMS_TO_BE_HUMAN.search(plain) or _ALSO_CLAIMS_TO_BE_HUMAN.search(_flat(normalise(plain))))


def _shortened(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    head = text[: limit + 1]
    ends = [m.end() for m in re.finditer(r"[.!?](?=\s)", head)]
    if ends:
        return head[: ends[-1]].strip()
    # No sentence ends in time: end at the last whole word, as a sentence.
    words = head[:limit].rsplit(" ", 1)[0].rstrip(",;:-")
    return f"{words}."


def script_problems(script: Script) -> dict[str, str]:
    """What in a client's script the guardrails would override, for the editor to refuse at once.

    An expected answer that means "stop" or "a person" would never be reached
    (the guardrails always win), and a line about card or bank details would be
    replaced on the call: both are refused when the script is saved, not found
    out on a call.
    """
    problems = {}
    lines = {"greeting": script.greeting, "closing": script.closing}
    lines.update({f"steps[{i}].question": step.question for i, step in enumerate(script.steps)})
    for path, text in lines.items():
        if text and _ASKS_FOR_SECRETS.search(_flat(normalise(text))):
            problems[path] = "The agent never asks for card details, bank details or passwords: take this out."
    for i, step in enumerate(script.steps):
        for j, answer in enumerate(step.answers):
            for phrase in answer.phrases:
                if is_opt_out(phrase):
                    problems[f"steps[{i}].answers[{j}].phrases"] = f"'{phrase}' always stops the calls; it cannot be an answer."
                elif asks_for_person(phrase):
                    problems[f"steps[{i}].answers[{j}].phrases"] = f"'{phrase}' always asks for a person; it cannot be an answer."
    return problems
