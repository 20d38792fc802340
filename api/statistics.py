"""The statistics function the follow-up report uses: the statistics service
(`domain.statistics.service.compute`) bound to the app's pseudonym key and the clock. Tests put
their own on `app.state.statistics`."""

from __future__ import annotations

from sqlmodel import Session

from common.clock import utcnow
from common.keys import KeySet
from domain.reports.service import Statistics
from domain.statistics.service import compute
from domain.statistics.spec import StatisticsRequest, StatisticsResult


def bind_statistics(keys: KeySet) -> Statistics:
    def statistics(session: Session, request: StatisticsRequest) -> StatisticsResult:
        return compute(session, request, keys.statistics, as_of=utcnow())

    return statistics
