"""Input rules for text, decided once: every field a person or a file gives us goes through here.

`clean_line` is for single-line fields (names, titles, places), `clean_text` for multi-line ones
(descriptions, notes). Both apply Unicode NFC, drop control and invisible formatting characters,
and refuse the bidirectional overrides that can make text read differently from what is stored
("Trojan Source"). `email_address` checks that a value is exactly one email address.

Forms (WTForms `filters=[...]`), content files and imports (the pydantic types `Line` and
`Text`) all call these, so a title cannot carry a line break into an email header, an iCal
file or an XML feed, wherever it came from.
"""
from __future__ import annotations

import re
import unicodedata
from typing import Annotated, Any

from email_validator import EmailNotValidError, validate_email
from flask import current_app, has_app_context
from pydantic import BeforeValidator

# Embeddings, overrides and isolates: refused, because they reorder what a reader sees.
BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")
# ZWNJ/ZWJ join letters in some scripts and build emoji; between two such characters they stay.
_JOINER = re.compile(r"(?<=[^\x00-\x7f\s])[\u200c\u200d](?=[^\x00-\x7f\s])")
# Tag characters spell the England, Scotland and Wales flags after U+1F3F4.
_FLAG_TAGS = re.compile("\U0001f3f4[\U000e0020-\U000e007f]+")
_LINE_BREAKS = re.compile("\r\n|[\r\n\v\f\x1c-\x1e\x85\u2028\u2029]")
_SPACES = re.compile(r"[ \t\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]+")


class TextError(ValueError):
    """Text refused by an input rule; `code` is stable, the message is plain English."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


BIDI_MESSAGE = "must not contain hidden characters that change the direction of text"


def _keep(char: str) -> bool:
    """Drop control characters (C0, C1, DEL) and invisible format characters."""
    if char in "\n\t":
        return True
    return unicodedata.category(char) not in ("Cc", "Cf", "Cs", "Co", "Cn")


def _strip_invisible(value: str) -> str:
    """Remove controls and format characters, keeping the few that are part of real text."""
    kept: dict[int, str] = {}
    for match in _JOINER.finditer(value):
        kept[match.start()] = match.group()
    for match in _FLAG_TAGS.finditer(value):
        for offset in range(1, len(match.group())):
            kept[match.start() + offset] = match.group()[offset]
    return "".join(char for index, char in enumerate(value) if index in kept or _keep(char))


def _prepare(value: Any) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise TextError("not_text", "must be text")
    value = unicodedata.normalize("NFC", value)
    if BIDI_CONTROLS.search(value):
        raise TextError("bidi", BIDI_MESSAGE)
    return value


def clean_line(value: Any) -> str:
    """One line of text: line breaks and tabs become spaces, runs of spaces one, ends trimmed."""
    value = _LINE_BREAKS.sub(" ", _prepare(value))
    value = _strip_invisible(value.replace("\t", " "))
    return _SPACES.sub(" ", value).strip()


def clean_text(value: Any) -> str:
    """Several lines of text: line breaks become \\n, other controls go, ends trimmed."""
    value = _LINE_BREAKS.sub("\n", _prepare(value))
    return _strip_invisible(value).strip()


def header_text(value: str) -> str:
    """A value for a header line (an email's Subject, a file name): clean_line, with any bidi
    control removed rather than refused, since the text was accepted before this rule."""
    return clean_line(BIDI_CONTROLS.sub("", value if isinstance(value, str) else ""))


def output_text(value: str) -> str:
    """Stored multi-line text made safe for XML and iCal output (no controls but \n and \t,
    no bidi controls), for rows written before these rules or by hand."""
    return clean_text(BIDI_CONTROLS.sub("", value if isinstance(value, str) else ""))


def clean_optional_line(value: Any) -> Any:
    """clean_line for values that may be absent (None stays None) or not text (left alone)."""
    return clean_line(value) if isinstance(value, str) else value


def clean_optional_text(value: Any) -> Any:
    return clean_text(value) if isinstance(value, str) else value


def cleaned_form(form: Any, lines: tuple[str, ...] = (), texts: tuple[str, ...] = (),
                 labels: dict[str, str] | None = None) -> tuple[dict[str, str], dict[str, str]]:
    """Hand-parsed form fields through the rules: (values, errors by field), where an error
    reads "<label> must not contain ..." and the value of a refused field is ""."""
    values: dict[str, str] = {}
    errors: dict[str, str] = {}
    for names, clean in ((lines, clean_line), (texts, clean_text)):
        for name in names:
            try:
                values[name] = clean(form.get(name, ""))
            except TextError as error:
                values[name] = ""
                errors[name] = f"{(labels or {}).get(name, name)} {error}"
    return values, errors


# For pydantic models (content files, imports, the edit forms' payloads).
Line = Annotated[str, BeforeValidator(clean_optional_line)]
Text = Annotated[str, BeforeValidator(clean_optional_text)]


# --- email addresses ------------------------------------------------------------------------

EMAIL_MESSAGE = "Enter an email address in the correct format, like name@example.com"


def email_address(value: Any, check_deliverability: bool | None = None) -> str:
    """Exactly one email address, normalised (domain in lower case), or TextError.

    email-validator refuses lists ("a@x.org,b@y.org"), display names, angle brackets, quoted
    local parts and controls, so the result is safe to put in a To: header as it is.
    Deliverability (a DNS lookup) follows EMAIL_CHECK_DELIVERABILITY, off by default: the site
    must work offline.
    """
    if check_deliverability is None:
        check_deliverability = bool(has_app_context()
                                    and current_app.config.get("EMAIL_CHECK_DELIVERABILITY"))
    if not isinstance(value, str) or not value.strip():
        raise TextError("email_missing", "Enter an email address")
    if BIDI_CONTROLS.search(value) or any(not _keep(char) or char in "\n\t" for char in value):
        raise TextError("email_format", EMAIL_MESSAGE)
    try:
        checked = validate_email(value.strip(), check_deliverability=check_deliverability,
                                 allow_smtputf8=False)
    except EmailNotValidError as error:
        raise TextError("email_format", EMAIL_MESSAGE) from error
    if len(checked.normalized) > 254:
        raise TextError("email_format", EMAIL_MESSAGE)
    return checked.normalized


def optional_email_address(value: Any) -> str:
    """email_address, but an empty value is allowed (and stays empty)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return ""
    return email_address(value)


EmailLine = Annotated[str, BeforeValidator(optional_email_address)]
