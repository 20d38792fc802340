"""Which statistics function the follow-up report uses: the statistics service
(`domain.statistics.service.compute`) bound to the app's pseudonym key. Tests put their own on
`app.state.statistics`.

The service is found at start-up rather than imported, so that the report can be merged and
run before the service is; without it, asking for figures answers 503 and says why.
"""

from __future__ import annotations

import importlib
from typing import Any

from sqlmodel import Session

from common.clock import utcnow
from common.errors import Unavailable
from common.keys import KeySet
from domain.reports.service import Statistics
from domain.statistics.spec import StatisticsRequest, StatisticsResult


def _unavailable(_session: Session, _request: StatisticsRequest) -> StatisticsResult:
    raise Unavailable("Statistiktjänsten finns inte i den här installationen.")


def bind_statistics(keys: KeySet) -> Statistics:
    try:
        module: Any = importlib.import_module("domain.statistics.service")
    except ModuleNotFoundError:
        return _unavailable
    compute = module.compute

    def statistics(session: Session, request: StatisticsRequest) -> StatisticsResult:
        result: StatisticsResult = compute(session, request, keys.statistics, as_of=utcnow())
        return result

    return statistics
