"""What a column's *name* suggests about its role (used beside its content)."""

from __future__ import annotations

import re
import unicodedata

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")

ID_TOKENS = {"id", "uuid", "guid", "key", "pk"}
TEXT_KEEP_TOKENS = ID_TOKENS | {
    "code",
    "number",
    "no",
    "nr",
    "zip",
    "zipcode",
    "postcode",
    "invoice",
    "sku",
    "ref",
    "reference",
}
PII_NAME_PATTERNS = [
    (re.compile(r"^(e_?)?mail(_?address)?$|^email"), "e-mail address"),
    (re.compile(r"^(phone|telephone|tel|mobile|cell|msisdn)(_?(number|no|nr))?$"), "phone number"),
    (
        re.compile(
            r"^(full_?|first_?|last_?|given_?|family_?|middle_?|sur)?name$"
            r"|^(customer|user|contact|client|person|member)_?(full_?)?name$"
        ),
        "person's name",
    ),
    (re.compile(r"^(street_?)?address(_?line_?\d)?$|^street$"), "postal address"),
    (
        re.compile(r"^(ssn|social_?security(_?number)?|passport(_?number)?|national_?id)$"),
        "national id",
    ),
    (re.compile(r"^(ip|ip_?address)$"), "IP address"),
    (re.compile(r"^(credit_?card|card_?number|iban)$"), "payment card or bank account"),
    (re.compile(r"^(date_?of_?birth|dob|birth_?date|birthday)$"), "date of birth"),
]
DATE_TOKENS = {
    "date",
    "dt",
    "day",
    "time",
    "timestamp",
    "ts",
    "at",
    "on",
    "since",
    "created",
    "updated",
    "signup",
    "joined",
    "registered",
    "birth",
}
CODE_TOKENS = {
    "type",
    "types",
    "code",
    "region",
    "browser",
    "os",
    "system",
    "systems",
    "category",
    "class",
    "group",
    "zone",
    "area",
    "channel",
    "status",
    "segment",
    "cluster",
    "department",
    "store",
    "branch",
}


_GLUED_ID = re.compile(
    r"^(user|customer|client|member|account|acct|cust|visitor|person|player|subscriber|contact"
    r"|session|order|device|invoice|transaction|u|c)_?(id|uuid|guid|key)$"
)


def tokens(name: str) -> list[str]:
    """Split a column name into lower-case words: ``"customerID"`` -> ``["customer", "id"]``."""
    spaced = _CAMEL.sub("_", fold_accents(str(name).strip()))
    return [t for t in re.split(r"[^0-9a-zA-Z]+", spaced.lower()) if t]


def fold_accents(text: str) -> str:
    """Letters without their accents ("quantité" → "quantite", "usuário" → "usuario",
    "ß" → "ss"), so that names in other languages split into their words."""
    decomposed = unicodedata.normalize("NFKD", text.replace("ß", "ss"))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def snake(name: str) -> str:
    return "_".join(tokens(name))


def is_id_name(name: str) -> bool:
    toks = tokens(name)
    return bool(toks) and (toks[-1] in ID_TOKENS or (len(toks) == 1 and _GLUED_ID.match(toks[0])))


def keep_as_text(name: str) -> bool:
    """Names whose values must keep their exact text (leading zeros in ids, codes, zips)."""
    toks = tokens(name)
    return bool(toks) and (toks[-1] in TEXT_KEEP_TOKENS or is_id_name(name))


def pii_kind(name: str) -> str | None:
    s = snake(name)
    for pattern, kind in PII_NAME_PATTERNS:
        if pattern.search(s):
            return kind
    return None


def is_date_name(name: str) -> bool:
    return bool(set(tokens(name)) & DATE_TOKENS)


def is_code_name(name: str) -> bool:
    return bool(set(tokens(name)) & CODE_TOKENS)
