"""Label and field selectors as the API server reads them, for the in-memory API server:
``a=b``, ``a==b``, ``a!=b``, ``a in (b,c)``, ``a notin (b,c)``, ``a``, ``!a``; fields by
dotted path (``metadata.name=x``, ``involvedObject.uid=y``)."""

from __future__ import annotations

import re
from typing import Any

TERM = re.compile(
    r"\s*(?:(?P<not>!)?(?P<key>[\w./-]+)\s*"
    r"(?:(?P<op>==|=|!=)\s*(?P<value>[\w./-]*)|\s+(?P<set>in|notin)\s*\((?P<values>[^)]*)\))?)"
    r"\s*(?:,|$)"
)


def _terms(selector: str) -> list[re.Match[str]]:
    found, at = [], 0
    while at < len(selector):
        term = TERM.match(selector, at)
        if term is None or term.end() == at:
            raise ValueError(f"selector {selector!r} not understood at {at}")
        found.append(term)
        at = term.end()
    return found


def _holds(term: re.Match[str], values: dict[str, str]) -> bool:
    key = term["key"]
    if term["op"]:
        same = values.get(key) == term["value"]
        return not same if term["op"] == "!=" else same
    if term["set"]:
        listed = {v.strip() for v in term["values"].split(",")}
        inside = values.get(key) in listed
        return not inside if term["set"] == "notin" else inside
    return (key in values) != bool(term["not"])


def _fields(obj: dict[str, Any], selector: str) -> dict[str, str]:
    """The values of the fields ``selector`` names."""
    found = {}
    for term in _terms(selector):
        value: Any = obj
        for part in term["key"].split("."):
            value = value.get(part) if isinstance(value, dict) else None
        if value is not None:
            found[term["key"]] = str(value)
    return found


def matches(obj: dict[str, Any], labels: str | None, fields: str | None) -> bool:
    own = obj.get("metadata", {}).get("labels") or {}
    if labels and not all(_holds(t, own) for t in _terms(labels)):
        return False
    return not fields or all(_holds(t, _fields(obj, fields)) for t in _terms(fields))
