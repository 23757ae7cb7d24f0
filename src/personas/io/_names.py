"""What a column's *name* suggests about its role (used beside its content)."""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from personas._words import load

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")

_WORDS = load("column_names")["table"]  # (personas/words/column_names.toml)
ID_TOKENS = set(_WORDS["id"])
TEXT_KEEP_TOKENS = ID_TOKENS | set(_WORDS["keep_as_text"])
PII_NAME_PATTERNS = [(re.compile(p["pattern"]), p["kind"]) for p in _WORDS["personal_data"]]
DATE_TOKENS = set(_WORDS["date"])
CODE_TOKENS = set(_WORDS["code"])
OUTCOME_WORDS = _OUTCOME = set(_WORDS["outcome"])
_OUTCOME_CONTEXT = set(_WORDS["outcome_context"])
_ID_OWNER = set(_WORDS["id_owner"])
_ID_NUMBER = set(_WORDS["id_number"])
_GLUED_NUMBER = re.compile(rf"^({'|'.join(_ID_OWNER)})_?({'|'.join(_ID_NUMBER)})$")
_GLUED_ID = re.compile(rf"^({'|'.join(_WORDS['glued_id'])})_?(id|uuid|guid|key)$")
# The words of an event log's user column (the same lists the log's mapping reads): the
# user's, then a payment card's (a card transaction log's user)
_USERS = set(load("column_names")["events"]["users"])
_CARDS = {
    w
    for m in load("column_names")["events"]["meaning"]
    if m["name"] == "user_id"
    for tier in m["tiers"]
    for w in tier
    if not w.startswith("@")
}
_USER_KEY = ID_TOKENS | _ID_NUMBER | {"key", "code", "ref"}


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
    """ "customer_id", "userKey", "customerid"; "CustomerNumber", "numero_cliente",
    "CLIENTNUM"."""
    toks = tokens(name)
    numbered = len(toks) == 2 and bool(set(toks) & _ID_OWNER)  # (id_cliente, numero_cliente)
    numbered = numbered and bool(set(toks) & (_ID_NUMBER | ID_TOKENS))
    numbered |= len(toks) == 1 and bool(_GLUED_NUMBER.match(toks[0]))  # ("CLIENTNUM")
    return bool(toks) and (
        toks[-1] in ID_TOKENS or numbered or (len(toks) == 1 and bool(_GLUED_ID.match(toks[0])))
    )


def is_user_name(name: str, *, cards: bool = False) -> bool:
    """ "customer", "Client", "user_id", "id_client", "Kundennummer", "member_no": a name
    saying the user, alone or with an id word; with ``cards``, a payment card's too
    ("card_id", "cc_num"); not "customer_type" or "customer_name"."""
    words = _USERS | (_CARDS if cards else set())
    toks = tokens(name)
    glued = [t for t in toks if any(t.startswith(w) and t[len(w) :] in _USER_KEY for w in words)]
    return bool(set(toks) & words or glued) and all(
        t in words | _USER_KEY or t in glued for t in toks
    )


def names_a_user(name: str) -> bool:
    """A user's name (:func:`is_user_name`), or one starting with a user's word
    ("customer_unique_id", "user_pseudo_id", "user_session_id"): a key of users, whose
    values may repeat."""
    toks = tokens(name)
    return is_user_name(name) or (bool(toks) and toks[0] in _USERS)


def personal_ids(name: str, ids: Any) -> bool:
    """Whether a column of user ids is personal data: named so ("Email",
    "customer_name"), or mostly e-mail addresses (a shop export keyed by e-mail)."""
    sample = ids.dropna().astype(str).head(1000)
    return bool(pii_kind(name)) or bool(len(sample) and sample.str.contains("@").mean() > 0.5)


def is_outcome_name(name: str) -> bool:
    """ "Churn", "Exited", "Attrition_Flag", "is_churned", "y"; not "churn_risk_score" or
    "email_opt_in": a word of an outcome, and no word beyond such a name's."""
    toks = set(tokens(name))
    return bool(toks & _OUTCOME) and toks <= _OUTCOME | _OUTCOME_CONTEXT


def keep_as_text(name: str) -> bool:
    """Names whose values must keep their exact text (leading zeros in ids, codes, zips)."""
    toks = tokens(name)
    return bool(toks) and (toks[-1] in TEXT_KEEP_TOKENS or is_id_name(name))


def pii_kind(name: str, *, whole: bool = False) -> str | None:
    """The kind of personal data a name says a column holds; with ``whole``, only when the
    name is nothing but that ("email", "phone_number"; not "email_open_rate")."""
    s = snake(name)
    for pattern, kind in PII_NAME_PATTERNS:
        if (pattern.fullmatch if whole else pattern.search)(s):
            return kind
    return None


def is_date_name(name: str) -> bool:
    return bool(set(tokens(name)) & DATE_TOKENS)


def is_code_name(name: str) -> bool:
    return bool(set(tokens(name)) & CODE_TOKENS)
