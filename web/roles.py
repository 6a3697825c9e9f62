"""Account roles, in a module without imports: the command line's parser lists them."""

from __future__ import annotations

ROLES = {
    "editeur": "éditeur de l'annuaire",
    "promoteur": "promoteur d'une candidature DAC",
    "ars": "agence régionale de santé",
    "admin": "administrateur",
}
#: The role as the page header names it, in words.
ROLE_NAMES = {
    "editeur": "Éditeur de l'annuaire",
    "promoteur": "Promoteur de DAC",
    "ars": "ARS",
    "admin": "Administrateur",
}
#: Roles whose account is tied to one département.
DEPARTEMENT_ROLES = frozenset({"promoteur", "ars"})
