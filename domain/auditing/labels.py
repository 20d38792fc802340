"""Swedish words for the audit log's codes, for the auditor's pages and the Swedish CSV.

Every action code the code records has a label here (tests/unit/test_audit_labels.py reads the
source for them). A denied request is recorded with its route ("GET /arenden/{case_id}"): it is
told in words from its path's segments, so a new route needs only its new segments here.
"""

from __future__ import annotations

from typing import Any

ACTION_LABELS: dict[str, str] = {
    # Logging in and out
    "auth.login": "Inloggning",
    "auth.password_accepted": "Lösenordet godtogs (engångskod återstår)",
    "auth.logout": "Utloggning",
    "auth.logout_everywhere": "Loggade ut på alla enheter",
    "auth.totp.enrolment_started": "Började aktivera tvåstegsverifiering",
    "auth.totp.enable": "Aktiverade tvåstegsverifiering",
    # Young persons and cases
    "young_person.create": "Registrerade ung person",
    "young_person.read": "Läste uppgifter om den unga personen",
    "case.create": "Öppnade ärendet",
    "case.read": "Läste ärendet",
    "case.list": "Såg ärendet i ärendelistan",
    "case.change_state": "Ändrade ärendets status",
    "case.break_glass": "Öppnade ärendet med nödåtkomst",
    "team.add": "Lade till en person i teamet",
    "team.remove": "Tog bort en person ur teamet",
    # Consent
    "consent.read": "Läste samtyckena",
    "consent.record": "Registrerade ett samtycke",
    "consent.withdraw": "Registrerade att ett samtycke återkallades",
    "consent.ending": "Samtycket upphörde (tid eller ålder)",
    "consent.tracker": "Såg samtyckesbevakningen",
    # Plans and commitments
    "plan.read": "Läste planen",
    "plan.goal_add": "Lade till ett mål i planen",
    "plan.goal_update": "Ändrade ett mål i planen",
    "plan.commitment_add": "Lade till ett åtagande",
    "plan.commitment_update": "Ändrade eller klarmarkerade ett åtagande",
    "commitments.overdue": "Såg försenade åtaganden",
    "commitments.mine": "Såg sina åtaganden",
    # Meetings and minutes
    "meeting.list": "Såg ärendets möten",
    "meeting.read": "Läste ett möte",
    "meeting.create": "Bokade ett möte",
    "meeting.update": "Ändrade ett möte",
    "meeting.cancel": "Ställde in ett möte",
    "meeting.attendance": "Registrerade närvaro på ett möte",
    "meeting.invitation": "Hämtade en mötesinbjudan (kalenderfil)",
    "minutes.item_add": "Lade till en punkt i protokollet",
    "minutes.item_edit": "Ändrade en punkt i protokollet",
    "minutes.finalise": "Justerade protokollet",
    "minutes.amend": "Rättade ett justerat protokoll",
    "minutes.print": "Skrev ut protokollet",
    # Assessments (the cylinder model)
    "assessment.list": "Såg ärendets bedömningar",
    "assessment.read": "Läste en bedömning",
    "assessment.record": "Registrerade en bedömning",
    "assessment_config.level_set": "Ändrade en nivå i cylindermodellen",
    "assessment_config.level_retire": "Tog bort en nivå i cylindermodellen",
    "assessment_config.factor_add": "Lade till en risk- eller skyddsfaktor",
    "assessment_config.factor_change": "Ändrade en risk- eller skyddsfaktor",
    "assessment_config.factor_retire": "Tog bort en risk- eller skyddsfaktor",
    # Referrals
    "referral.create": "Aktualiserade en ung person",
    "referral.read": "Läste en aktualisering",
    "referral.list": "Såg aktualiseringen i en lista",
    "referral.read_own": "Läste sina egna aktualiseringar",
    "referral.decide": "Beslutade om en aktualisering",
    "referral.hand_over": "Lämnade över en aktualisering till en annan enhet",
    "referral_settings.change": "Ändrade inställningar för aktualiseringar",
    # Configuration (the administrator and the command line)
    "config.agency.create": "Skapade en enhet",
    "config.agency.update": "Ändrade en enhet",
    "config.agency.deactivate": "Inaktiverade en enhet",
    "config.agency.reactivate": "Aktiverade en enhet igen",
    "config.user.update": "Ändrade en användares enhet, roller eller program",
    "config.user.unlock": "Låste upp en spärrad användare",
    "config.consent_ages": "Ändrade åldrarna för samtycke",
    "config.user.create": "Skapade en användare",
    "config.user.disable": "Inaktiverade en användare",
    "config.user.enable": "Aktiverade en användare igen",
    "config.user.programmes": "Ändrade en användares program",
    "config.user.roles": "Ändrade en användares roller",
    "config.user.set_password": "Satte ett nytt lösenord för en användare",
    "config.user.reset_second_factor": "Nollställde en användares tvåstegsverifiering",
    "config.keys.rotate_field_key": "Bytte krypteringsnyckel för känsliga fält",
    # The collaboration agreement (configuration, no personal data)
    "agreement.create": "Skapade en samverkansöverenskommelse",
    "agreement.update": "Ändrade en samverkansöverenskommelse",
    "agreement.party.create": "Lade till en part i en överenskommelse",
    "agreement.party.delete": "Tog bort en part ur en överenskommelse",
    "agreement.goal_area.create": "Lade till ett målområde i en överenskommelse",
    "agreement.goal_area.update": "Ändrade ett målområde i en överenskommelse",
    "agreement.goal_area.delete": "Tog bort ett målområde ur en överenskommelse",
    "agreement.activity.create": "Lade till en aktivitet i en överenskommelse",
    "agreement.activity.update": "Ändrade en aktivitet i en överenskommelse",
    "agreement.activity.delete": "Tog bort en aktivitet ur en överenskommelse",
    "agreement.target.create": "Lade till ett mål för en aktivitet",
    "agreement.target.update": "Ändrade ett mål för en aktivitet",
    "agreement.target.delete": "Tog bort ett mål för en aktivitet",
    # The follow-up report and the release ledger (aggregates only)
    "follow_up.preview": "Förhandsgranskade en uppföljningsrapport (sammanställd statistik)",
    "follow_up.narrative": "Sparade kommentaren i en uppföljningsrapport",
    "follow_up.publish": "Publicerade en uppföljningsrapport",
    "follow_up.correct": "Öppnade en publicerad uppföljningsrapport för rättelse",
    "follow_up.download": "Hämtade en publicerad uppföljningsrapport (fil)",
    # The auditor's own work
    "audit.search": "Sökte i loggen",
    "audit.access_report": "Tog fram åtkomstrapport för ärendet",
    "audit.export": "Exporterade loggen",
    "audit.verify": "Kontrollerade loggens integritet",
    "audit.break_glass_review": "Läste listan över nödåtkomster",
    "audit.break_glass.review": "Granskade en nödåtkomst",
}

BASIS_LABELS: dict[str, str] = {
    "own_agency": "Egen enhet",
    "programme_coordinator": "Samordnare för programmet",
    "consent": "Samtycke",
    "break_glass": "Nödåtkomst",
    "system": "Systemet, enligt samtyckesreglerna",
    "sender": "Avsändare av aktualiseringen",
    "configuration": "Konfiguration",
    "statistics": "Sammanställd statistik för uppföljning",
    "published_statistics": "Publicerad uppföljning",
}

OUTCOME_LABELS: dict[str, str] = {"allowed": "Tillåten", "denied": "Nekad"}

# A denied request names its route. The method says what was tried, the path's segments where.
METHOD_LABELS: dict[str, str] = {
    "GET": "Försökte visa",
    "HEAD": "Försökte visa",
    "POST": "Försökte skicka",
    "PUT": "Försökte ändra",
    "PATCH": "Försökte ändra",
    "DELETE": "Försökte ta bort",
}
# Every static segment of a path, pages' (Swedish) and the JSON API's (English).
SEGMENT_LABELS: dict[str, str] = {
    # pages
    "start": "startsidan",
    "arenden": "ärende",
    "unga": "ung person",
    "ny": "ny",
    "bedomningar": "bedömningar",
    "moten": "möten",
    "nodstopp": "akut möte",
    "kalender.ics": "kalenderfil",
    "utskrift": "utskrift av protokoll",
    "justera": "justering av protokoll",
    "narvaro": "närvaro",
    "punkter": "protokollspunkt",
    "rattelse": "rättelse",
    "plan": "plan",
    "ataganden": "åtagande",
    "mal": "mål",
    "samtycken": "samtycken",
    "aterkalla": "återkallelse",
    "status": "status",
    "team": "team",
    "ta-bort": "borttagning",
    "aktualiseringar": "aktualiseringar",
    "mina": "mina",
    "beslut": "beslut",
    "vantelista": "väntelista",
    "nodatkomst": "nödåtkomst",
    "granskning": "logggranskning",
    "arende": "åtkomst till ärende",
    "export.csv": "export",
    "integritet": "loggens integritet",
    "nekade": "nekade förfrågningar",
    "konto": "konto",
    "tvastegsverifiering": "tvåstegsverifiering",
    "logga-in": "inloggning",
    "kod": "engångskod",
    "aktivera": "aktivering av tvåstegsverifiering",
    "logga-ut": "utloggning",
    "logga-ut-overallt": "utloggning på alla enheter",
    "oidc": "inloggning via organisation",
    "callback": "svar",
    "logged-out": "utloggad",
    "login": "inloggning",
    "healthz": "driftstatus",
    "admin": "administration",
    "organisationer": "enheter",
    "anvandare": "användare",
    "aktivering": "aktivering eller inaktivering",
    "upplasning": "upplåsning",
    "inloggning": "inloggning via organisation",
    "installningar": "inställningar",
    "historik": "historik",
    "samtyckesaldrar": "åldrar för samtycke",
    "grunder": "grunder för aktualisering",
    "aldersgrupper": "åldersgrupper",
    "kapacitet": "kapacitet",
    "cylindernivaer": "nivåer i cylindermodellen",
    "faktorer": "risk- och skyddsfaktorer",
    "uppfoljning": "uppföljning",
    "overlamna": "överlämning",
    "rapporter": "uppföljningsrapporter",
    "rapport": "uppföljningsrapport",
    "kommentar": "kommentar",
    "publicera": "publicering",
    "publicerat": "publicerad uppföljning",
    "rapport.json": "fil (JSON)",
    "rapport.csv": "fil (CSV)",
    "rapport.pdf": "fil (PDF)",
    "overenskommelser": "samverkansöverenskommelser",
    "parter": "part i överenskommelse",
    "malomraden": "målområde",
    "aktiviteter": "aktivitet",
    "andra": "ändring",
    # the JSON API
    "assessment-factors": "risk- och skyddsfaktorer",
    "agencies": "enheter",
    "users": "användare",
    "activation": "aktivering eller inaktivering",
    "second-factor-reset": "nollställning av tvåstegsverifiering",
    "unlock": "upplåsning",
    "config-history": "historik över inställningar",
    "consent-ages": "åldrar för samtycke",
    "hand-over": "överlämning",
    "retirement": "borttagning",
    "audit": "logggranskning",
    "break-glass": "nödåtkomst",
    "cases": "ärende",
    "access": "åtkomst",
    "checkpoint": "kontrollpunkt",
    "denied": "nekade förfrågningar",
    "events": "händelser",
    "events.csv": "export",
    "proofs": "bevis",
    "consistency": "konsistens",
    "inclusion": "inkludering",
    "review": "granskning",
    "auth": "inloggning",
    "me": "egna uppgifter",
    "mine": "mina",
    "token": "token",
    "logout": "utloggning",
    "logout-everywhere": "utloggning på alla enheter",
    "assessments": "bedömningar",
    "commitments": "åtagande",
    "consents": "samtycken",
    "withdrawal": "återkallelse",
    "emergency-meetings": "akut möte",
    "goals": "mål",
    "meetings": "möten",
    "finalise": "justering av protokoll",
    "items": "protokollspunkt",
    "amendments": "rättelse",
    "attendance": "närvaro",
    "invitation.ics": "kalenderfil",
    "transitions": "status",
    "consent-tracker": "samtyckesbevakning",
    "cylinder-levels": "nivåer i cylindermodellen",
    "overdue-commitments": "försenade åtaganden",
    "referral-grounds": "grunder för aktualisering",
    "referral-settings": "inställningar för aktualiseringar",
    "capacity": "kapacitet",
    "eligibility": "behörighet",
    "grounds": "grunder",
    "referrals": "aktualiseringar",
    "decision": "beslut",
    "waiting-list": "väntelista",
    "young-persons": "ung person",
    "follow-up": "uppföljning",
    "reports": "uppföljningsrapporter",
    "preview": "förhandsgranskning",
    "narrative": "kommentar",
    "publish": "publicering",
    "correct": "rättelse",
    "releases": "publicerade uppföljningar",
    "report.json": "fil (JSON)",
    "report.csv": "fil (CSV)",
    "report.pdf": "fil (PDF)",
    "agreements": "samverkansöverenskommelser",
    "parties": "part i överenskommelse",
    "goal-areas": "målområde",
    "activities": "aktivitet",
    "targets": "mål för aktivitet",
}
API_PREFIX = ("api", "v1")


def route_label(action: str) -> str | None:
    """A denied request's action ("POST /arenden/{case_id}/samtycken") in words, or None when
    it is no route or names a segment without a label."""
    method, _, path = action.partition(" ")
    if method not in METHOD_LABELS or not path.startswith("/"):
        return None
    segments = [s for s in path.split("/") if s]
    api = tuple(segments[:2]) == API_PREFIX
    if api:
        segments = segments[2:]
    words = []
    for segment in segments:
        if segment.startswith("{"):
            continue  # an id: the event's case and resource columns carry it
        if segment not in SEGMENT_LABELS:
            return None
        words.append(SEGMENT_LABELS[segment])
    where = " › ".join(words) or "startsidan"
    return f"{METHOD_LABELS[method]}: {where}{' (via API)' if api else ''}"


def action_label(action: str) -> str:
    """The Swedish words for an action code or a denied request's route. A code without a label
    (an event from a newer version) is shown as it is, marked, rather than hidden."""
    if action in ACTION_LABELS:
        return ACTION_LABELS[action]
    return route_label(action) or f"Händelse utan benämning ({action})"


def basis_label(basis: dict[str, Any] | None) -> str:
    """The basis of a disclosure in words. Configuration events use "kind" for other things
    (an agency's kind, a factor's): those are no basis, and get no label."""
    if not basis:
        return ""
    return BASIS_LABELS.get(str(basis.get("kind")), "")


def outcome_label(outcome: str) -> str:
    return OUTCOME_LABELS.get(outcome, outcome)
