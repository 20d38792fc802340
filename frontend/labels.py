"""Swedish words for the audit log's codes, shown to the auditor."""

from __future__ import annotations

ACTION_LABELS = {
    "case.read": "Läste ärendet",
    "case.list": "Såg ärendet i ärendelistan",
    "case.create": "Öppnade ärendet",
    "case.change_state": "Ändrade ärendets status",
    "young_person.create": "Registrerade ung person",
    "young_person.read": "Läste uppgifter om ung person",
    "auth.login": "Inloggning",
    "auth.logout": "Utloggning",
    "audit.search": "Sökte i loggen",
    "audit.access_report": "Tog fram åtkomstrapport",
    "audit.export": "Exporterade loggen",
    "audit.verify": "Kontrollerade loggens integritet",
    "audit.break_glass_review": "Läste listan över nödåtkomster",
    "audit.break_glass.review": "Granskade en nödåtkomst",
    "case.break_glass": "Öppnade ärendet med nödåtkomst",
    "plan.read": "Läste planen",
    "plan.goal_add": "Lade till ett mål i planen",
    "plan.goal_update": "Ändrade ett mål i planen",
    "plan.commitment_add": "Lade till ett åtagande",
    "plan.commitment_update": "Ändrade eller klarmarkerade ett åtagande",
    "commitments.overdue": "Såg försenade åtaganden",
    "commitments.mine": "Såg sina åtaganden",
}
BASIS_LABELS = {
    "own_agency": "Egen enhet",
    "programme_coordinator": "Samordnare för programmet",
    "consent": "Samtycke",
    "break_glass": "Nödåtkomst",
    "system": "Systemet, enligt samtyckesreglerna",
}


def action_label(action: str) -> str:
    if action in ACTION_LABELS:
        return ACTION_LABELS[action]
    if action.startswith("config."):
        return f"Konfiguration ({action.removeprefix('config.')})"
    if " /" in action:
        return f"Begäran: {action}"
    return action
