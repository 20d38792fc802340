"""Pure rules about young persons' data."""

from __future__ import annotations

import uuid
from collections.abc import Collection

from common.actor import Actor
from domain.people.models import YoungPerson


def sees_protected_details(
    actor: Actor, person: YoungPerson, case_owner_ids: Collection[uuid.UUID]
) -> bool:
    """With skyddade personuppgifter, address and school are for the case owner alone.

    Before any case exists, the social worker who registered the young person is the owner.
    """
    if not person.protected_identity:
        return True
    owners = set(case_owner_ids) or {person.registered_by}
    return actor.user_id in owners
