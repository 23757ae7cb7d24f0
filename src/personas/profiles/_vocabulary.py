"""The words personas reads in the values of an event log: which event names mean a
purchase, a return, a subscription's start, renewal or end, a session, which values
of an order's status undo the order, and which values of a flag column are true.

Compared after :func:`event_name` (lower case, "_" and "-" read as spaces, accents
folded), in English and in Spanish, Portuguese, French, German, Italian and Dutch.
"""

from __future__ import annotations

from personas.io._names import fold_accents

__all__ = ["CANCEL_TYPES", "FLAG_FALSE", "FLAG_TRUE", "PURCHASE_TYPES", "RENEWAL_TYPES",
           "RETURN_TYPES", "SESSION_TYPES", "STATUS_CANCELLED", "STATUS_RETURNED",
           "SUBSCRIPTION_TYPES", "event_name"]  # fmt: skip

# Event names, compared lower-case with "_" and "-" read as spaces and accents folded:
# plain verbs and the tracking plans' names (Segment/RudderStack "Order Completed", GA4
# "purchase"/"refund"), then the same in Spanish, Portuguese, French, German, Italian, Dutch
PURCHASE_TYPES = ("purchase", "order", "buy", "checkout", "transaction", "payment", "sale",
                  "order completed", "order placed", "purchase completed",
                  "checkout completed", "transaction completed", "payment completed",
                  "compra", "pedido", "venta", "venda", "pago", "pagamento", "achat",
                  "commande", "vente", "paiement", "kauf", "bestellung", "verkauf",
                  "zahlung", "acquisto", "ordine", "vendita", "aankoop", "bestelling",
                  "verkoop", "betaling")  # fmt: skip
RETURN_TYPES = ("refund", "return", "chargeback", "order refunded", "order returned",
                "refund completed", "return completed",
                "devolucion", "reembolso", "devolucao", "remboursement", "retour",
                "rueckgabe", "ruckgabe", "erstattung", "retoure", "reso", "rimborso",
                "restituzione", "terugbetaling")  # fmt: skip
CANCEL_TYPES = ("cancellation", "cancel", "unsubscribe", "churn", "subscription cancelled",
                "subscription canceled", "subscription ended", "unsubscribed",
                "cancelacion", "baja", "cancelamento", "annulation", "resiliation",
                "kuendigung", "kundigung", "storno", "annullamento", "disdetta",
                "opzegging")  # fmt: skip
# Values of an order's status column that undo it (Olist's order_status, Sample Sales
# Data's STATUS, a shop's financial status)
STATUS_CANCELLED = ("cancelled", "canceled", "cancel", "cancellation", "voided", "void",
                    "cancelado", "cancelada", "anulado", "anulada", "annule", "annulee",
                    "storniert", "storno", "annulliert", "annullato", "annullata",
                    "geannuleerd")  # fmt: skip
STATUS_RETURNED = ("refunded", "returned", "refund", "return", "chargeback", "devuelto",
                   "reembolsado", "devolvido", "rembourse", "retourne", "erstattet",
                   "zurueckgegeben", "zuruckgegeben", "rimborsato", "reso",
                   "terugbetaald", "geretourneerd")  # fmt: skip
RENEWAL_TYPES = ("renewal", "renew", "subscription renewal", "subscription renewed", "renewed",
                 "renovacion", "renovacao", "renouvellement", "verlaengerung",
                 "verlangerung", "rinnovo", "verlenging")  # fmt: skip
SUBSCRIPTION_TYPES = RENEWAL_TYPES + CANCEL_TYPES + (
    "signup", "subscribe", "subscription", "subscribed", "subscription started", "sign up",
    "trial started", "alta", "suscripcion", "assinatura", "inscription", "abonnement",
    "anmeldung", "abbonamento", "iscrizione", "aanmelding")  # fmt: skip
SESSION_TYPES = ("session", "session start", "session started", "visit", "sesion", "sessao",
                 "sitzung", "sessione", "sessie", "visita", "visite", "besuch",
                 "bezoek")  # fmt: skip

# The values of a flag column (is_cancel, is_returned, Cancelled), as event_name writes them
FLAG_TRUE = {"1", "1.0", "true", "t", "yes", "y"}
FLAG_FALSE = {"0", "0.0", "false", "f", "no", "n"}


def event_name(value: str) -> str:
    """An event type as the name lists write it: "Order_Completed " -> "order completed",
    "Devolución" -> "devolucion"."""
    return " ".join(fold_accents(value).replace("_", " ").replace("-", " ").lower().split())
