"""The benchmarks' synthetic city (tests/perf/city.py) holds data the app can read: a city
whose consent records named agency kinds instead of agencies gave a server error on every
page that showed one of its cases' consents."""

from __future__ import annotations

import json
import sqlite3
import uuid
from pathlib import Path

from common.keys import KeySet
from tests.perf import city


def test_consent_records_share_with_the_citys_own_agencies(
    sqlite_template: Path,
    tmp_path: Path,
    keys: KeySet,  # installs the field key ring the city seals with
) -> None:
    path = tmp_path / "city.db"
    path.write_bytes(sqlite_template.read_bytes())
    city.build(f"sqlite:///{path}", 40)

    with sqlite3.connect(path) as db:
        agencies = {uuid.UUID(row[0]) for row in db.execute("SELECT id FROM agency")}
        shared = [json.loads(row[0]) for row in db.execute("SELECT agencies FROM consent_record")]
        police = db.execute("SELECT id FROM agency WHERE kind = 'police'").fetchone()[0]
    assert len(shared) >= 3 * 40
    for named in shared:
        assert {uuid.UUID(agency) for agency in named} <= agencies
        assert uuid.UUID(police) in {uuid.UUID(agency) for agency in named}
