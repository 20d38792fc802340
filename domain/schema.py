"""Imports every table module so that `metadata` is complete (migrations, tests)."""

from audit import models as audit_models
from common.db import metadata
from consent import models as consent_models
from domain.agencies import models as agency_models
from domain.agreements import models as agreement_models  # issue 14: agreements
from domain.assessments import models as assessment_models
from domain.cases import models as case_models
from domain.configuration import models as configuration_models
from domain.meetings import models as meeting_models
from domain.people import models as people_models
from domain.plans import models as plan_models
from domain.referrals import models as referral_models  # issue 13: referrals
from domain.reports import models as report_models  # issue 14: follow-up reports, ledger
from domain.users import models as user_models

TABLE_MODULES = (
    agency_models,
    user_models,
    people_models,
    case_models,
    consent_models,
    plan_models,
    meeting_models,
    referral_models,  # issue 13: referrals
    assessment_models,
    configuration_models,  # issue 15: consent ages, configuration history
    agreement_models,  # issue 14: the collaboration agreement
    report_models,  # issue 14: the follow-up report and the release ledger
    audit_models,
)

__all__ = ["TABLE_MODULES", "metadata"]
