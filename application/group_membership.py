"""Whether a person is in one of the Microsoft Entra groups whose members may act on transfer
cards (`case_transfer.allowed_groups`): asked of Microsoft Graph (`checkMemberGroups`, which
counts nested groups) and remembered like team membership. When Graph cannot answer, the
answer is "cannot tell now", never "yes": the click is refused and can be retried."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from datetime import timedelta

import requests

from application.remembered import MEMBER_TTL, STRANGER_TTL, RememberedAnswers
from graph.client import GraphClient
from graph.errors import GraphAuthError, GraphError, GraphPermissionError
from handoff.models import Person
from handoff.ports import Clock

log = logging.getLogger(__name__)

# A card action must be answered within ~5 s; a Graph throttled past this is "try again".
_LOOKUP_TIMEOUT_SECONDS = 3.0


class GroupMembership:
    def __init__(
        self,
        graph: GraphClient,
        group_ids: Sequence[str],
        clock: Clock,
        member_ttl: timedelta = MEMBER_TTL,
        stranger_ttl: timedelta = STRANGER_TTL,
    ) -> None:
        self._graph = graph
        self._group_ids = tuple(group_ids)
        self._known: RememberedAnswers[str] = RememberedAnswers(clock, member_ttl, stranger_ttl)

    async def in_any(self, person: Person) -> bool | None:
        """Whether the person is in at least one allowed group; None when that cannot be
        told now. Graph knows people by their AAD object id: without one, they are in none."""
        aad_id = (person.aad_object_id or "").lower()
        if not aad_id:
            log.warning("no AAD object id to check group membership", extra={"user_id": person.id})
            return False
        known = self._known.get(aad_id)
        if known is not None:
            return known
        member = await self._ask(aad_id)
        if member is not None:
            self._known.put(aad_id, member)
        return member

    async def _ask(self, aad_id: str) -> bool | None:
        try:
            async with asyncio.timeout(_LOOKUP_TIMEOUT_SECONDS):
                found = await self._graph.member_groups(aad_id, self._group_ids)
        except GraphPermissionError as error:
            # An admin must act; the message names the permission to grant.
            log.error(
                "group membership look-up refused by Graph",
                extra={
                    "status": error.status,
                    "permissions": list(error.permissions),
                    "error": str(error),
                },
            )
            return None
        except (GraphError, GraphAuthError) as error:
            log.warning(
                "group membership look-up failed",
                extra={"status": getattr(error, "status", None), "error": str(error)},
            )
            return None
        except (requests.RequestException, TimeoutError, OSError) as error:
            # The token request (msal, over requests) or Graph itself did not answer in time.
            log.warning("group membership look-up failed", extra={"reason": type(error).__name__})
            return None
        return bool(found)
