"""The operator's details (who runs the site, contacts, data controller...) filled into pages.

Editorial pages name settings rather than holding an operator's own words: `{{ operator_name }}`
in a page's Markdown is replaced by OPERATOR_NAME when the page is shown, and
`{{ privacy_retention_days }}` by the number the purge really uses, so a page cannot drift from
what the code does. `flask content check` and the production entry point (wsgi.py) refuse
content with a token they do not know, an operator detail left empty, or a left-over
placeholder such as "[OPERATOR: ...]".
"""
from __future__ import annotations

import re
from typing import Any, Mapping

from flask import current_app

# Operator details: set them for each install; empty ones stop a production start.
OPERATOR_SETTINGS = ("OPERATOR_NAME", "OPERATOR_CONTACT", "DATA_CONTROLLER",
                     "ACCESSIBILITY_CONTACT", "ACCESSIBILITY_ENFORCEMENT", "OPERATOR_SUPPLIERS",
                     "SERVER_LOG_RETENTION", "SAFEGUARDING_CONTACT")
# Settings the code acts on, shown as they are so the words follow the behaviour.
BEHAVIOUR_SETTINGS = ("SITE_NAME", "SITE_AREA", "PUBLIC_BASE_URL", "PRIVACY_RETENTION_DAYS",
                      "MODERATION_RETENTION_DAYS", "SIGNIN_TOKEN_MINUTES", "REMINDER_AFTER_DAYS",
                      "STALE_AFTER_DAYS", "REMINDER_LINK_DAYS", "NOT_CONFIRMED_AFTER_REMINDERS",
                      "INSIGHT_RETENTION_DAYS", "SECURITY_LOG_RETENTION_DAYS")
# Retention settings that hold no personal data, so the privacy notice need not state them.
NOT_PERSONAL_RETENTION = ("INDEX_LOG_RETENTION_DAYS",)  # the index change log: listing ids only
TOKENS = {name.lower(): name for name in OPERATOR_SETTINGS + BEHAVIOUR_SETTINGS}
TOKEN = re.compile(r"\{\{\s*([A-Za-z0-9_]+)\s*\}\}")
# Text that shows a page was never finished: the shipped "[OPERATOR: ...]" style and its kin.
LEFT_OVER = re.compile(r"\[\s*(?:OPERATOR|TODO|FIXME|TBC|INSERT)\b|\bLorem ipsum\b", re.I)


class SiteDetailsMissing(RuntimeError):
    """Operator details or page placeholders that must be filled before the site is public."""


def value(name: str, config: Mapping[str, Any] | None = None) -> str:
    """A token's text: the setting's value, or a visible note that it is not set yet."""
    config = current_app.config if config is None else config
    text = str(config.get(TOKENS[name], "") or "").strip()
    return text or f"(not set yet: {TOKENS[name]})"


def fill(text: str | None, config: Mapping[str, Any] | None = None) -> str:
    """Page text with every known token replaced by its value (unknown ones left as typed)."""
    return TOKEN.sub(lambda m: value(m.group(1).lower(), config)
                     if m.group(1).lower() in TOKENS else m.group(0), text or "")


def text_problems(text: str, config: Mapping[str, Any], where: str) -> list[str]:
    """Why this page text cannot be published as it stands, one message per problem."""
    problems = []
    for match in LEFT_OVER.finditer(text):
        line = text.count("\n", 0, match.start()) + 1
        problems.append(f"{where}: line {line}: placeholder “{match.group(0)}…” left in the "
                        "text; write the words, or use a setting such as {{ operator_name }}")
    for match in TOKEN.finditer(text):
        name = match.group(1).lower()
        if name not in TOKENS:
            problems.append(f"{where}: unknown setting {{{{ {match.group(1)} }}}} (known: "
                            f"{', '.join(sorted(TOKENS))})")
        elif not str(config.get(TOKENS[name], "") or "").strip():
            problems.append(f"{where}: uses {{{{ {name} }}}} but {TOKENS[name]} is not set "
                            "(see the settings table in the README)")
    return list(dict.fromkeys(problems))


def content_problems(pages: Mapping[str, Any], config: Mapping[str, Any]) -> list[str]:
    """Problems in every page (title, summary, body) of a catalogue, plus unset details."""
    problems = []
    for slug, page in sorted(pages.items()):
        text = "\n".join((page.title, page.summary or "", page.body or ""))
        problems += text_problems(text, config, f"pages/{slug}.md")
    return problems


def unset_operator_settings(config: Mapping[str, Any]) -> list[str]:
    return [name for name in OPERATOR_SETTINGS if not str(config.get(name, "") or "").strip()]
