"""Roles of DESIGN §1, agency kinds, and the one permission table.

A permission says what a role may *attempt*; which rows it may then see is the consent
scope's business (`consent.scope`), never this table's.
"""

from __future__ import annotations

from enum import StrEnum


class AgencyKind(StrEnum):
    SOCIAL_SERVICES = "social_services"
    SCHOOL = "school"
    POLICE = "police"
    LEISURE = "leisure"
    OTHER = "other"


AGENCY_KIND_LABELS: dict[AgencyKind, str] = {
    AgencyKind.SOCIAL_SERVICES: "Socialtjänst",
    AgencyKind.SCHOOL: "Skola",
    AgencyKind.POLICE: "Polis",
    AgencyKind.LEISURE: "Fritid",
    AgencyKind.OTHER: "Annan aktör",
}


class Role(StrEnum):
    SOCIAL_WORKER = "social_worker"
    COORDINATOR = "coordinator"
    CONTACT_PERSON = "contact_person"
    STEERING_GROUP = "steering_group"
    ADMINISTRATOR = "administrator"
    AUDITOR = "auditor"


ROLE_LABELS: dict[Role, str] = {
    Role.SOCIAL_WORKER: "Handläggare",
    Role.COORDINATOR: "SIG/SSPF-samordnare",
    Role.CONTACT_PERSON: "Kontaktperson",
    Role.STEERING_GROUP: "Styrgrupp",
    Role.ADMINISTRATOR: "Systemförvaltare",
    Role.AUDITOR: "Logggranskare",
}

# Roles that only social services staff may hold: they own cases and personal data.
SOCIAL_SERVICES_ROLES = frozenset({Role.SOCIAL_WORKER, Role.COORDINATOR})


class Permission(StrEnum):
    REGISTER_YOUNG_PERSON = "register_young_person"
    READ_YOUNG_PERSON = "read_young_person"
    OPEN_CASE = "open_case"
    READ_CASE = "read_case"
    LIST_CASES = "list_cases"
    CHANGE_CASE_STATE = "change_case_state"
    MANAGE_TEAM = "manage_team"
    RECORD_CONSENT = "record_consent"
    BREAK_GLASS = "break_glass"
    READ_AUDIT_LOG = "read_audit_log"
    EXPORT_AUDIT_LOG = "export_audit_log"
    REVIEW_BREAK_GLASS = "review_break_glass"
    # Meetings and minutes (issue 12). Which meetings and items a reader sees is the scope's.
    READ_MEETINGS = "read_meetings"
    MANAGE_MEETINGS = "manage_meetings"  # schedule, call an emergency stop, record attendance
    WRITE_MINUTES = "write_minutes"  # add items to a draft; the chair finalises
    # The plan: goals and commitments.
    READ_PLAN = "read_plan"
    EDIT_PLAN = "edit_plan"  # goals, and commitments for any agency
    UPDATE_COMMITMENT = "update_commitment"  # complete or comment on one's own agency's
    # Referrals (aktualiseringar, issue 13): any case-working role raises one and follows its
    # status; social services triage them.
    RAISE_REFERRAL = "raise_referral"
    TRIAGE_REFERRALS = "triage_referrals"
    # Cylinder-model assessments (issue 13): category `risk` decides who reads them.
    READ_ASSESSMENTS = "read_assessments"
    RECORD_ASSESSMENT = "record_assessment"
    # Municipal configuration: catalogues, cylinder levels, eligibility and capacity.
    CONFIGURE = "configure"
    # The steering group's follow-up of the collaboration agreement (issue 14): statistics only.
    READ_FOLLOW_UP = "read_follow_up"
    # The coordinator sets up the agreement: parties, goal areas, activities and targets.
    MANAGE_AGREEMENTS = "manage_agreements"


# What social services staff do on the cases they manage: run the meetings and keep the plan.
CASE_WORK = frozenset(
    {
        Permission.READ_MEETINGS,
        Permission.MANAGE_MEETINGS,
        Permission.WRITE_MINUTES,
        Permission.READ_PLAN,
        Permission.EDIT_PLAN,
        Permission.UPDATE_COMMITMENT,
        Permission.RAISE_REFERRAL,
        Permission.TRIAGE_REFERRALS,
        Permission.READ_ASSESSMENTS,
        Permission.RECORD_ASSESSMENT,
    }
)

PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.SOCIAL_WORKER: frozenset(
        {
            Permission.REGISTER_YOUNG_PERSON,
            Permission.READ_YOUNG_PERSON,
            Permission.OPEN_CASE,
            Permission.READ_CASE,
            Permission.LIST_CASES,
            Permission.CHANGE_CASE_STATE,
            Permission.MANAGE_TEAM,
            Permission.RECORD_CONSENT,
            Permission.BREAK_GLASS,
            *CASE_WORK,
        }
    ),
    Role.COORDINATOR: frozenset(
        {
            Permission.READ_YOUNG_PERSON,
            Permission.READ_CASE,
            Permission.LIST_CASES,
            Permission.CHANGE_CASE_STATE,
            Permission.MANAGE_TEAM,
            Permission.RECORD_CONSENT,
            Permission.READ_FOLLOW_UP,
            Permission.MANAGE_AGREEMENTS,
            *CASE_WORK,
        }
    ),
    Role.CONTACT_PERSON: frozenset(
        {
            Permission.READ_CASE,
            Permission.LIST_CASES,
            Permission.READ_MEETINGS,
            Permission.WRITE_MINUTES,
            Permission.READ_PLAN,
            Permission.UPDATE_COMMITMENT,
            Permission.RAISE_REFERRAL,
            Permission.READ_ASSESSMENTS,
        }
    ),
    Role.STEERING_GROUP: frozenset({Permission.READ_FOLLOW_UP}),
    Role.ADMINISTRATOR: frozenset({Permission.CONFIGURE}),
    Role.AUDITOR: frozenset(
        {Permission.READ_AUDIT_LOG, Permission.EXPORT_AUDIT_LOG, Permission.REVIEW_BREAK_GLASS}
    ),
}

# Holding any of these makes a second factor at login required (DESIGN §4): they reach a young
# person's data, or the record of who read it.
SECOND_FACTOR_PERMISSIONS = frozenset(
    {Permission.READ_CASE, Permission.READ_YOUNG_PERSON, Permission.READ_AUDIT_LOG}
)


def needs_second_factor(roles: frozenset[Role]) -> bool:
    return any(PERMISSIONS[role] & SECOND_FACTOR_PERMISSIONS for role in roles)
