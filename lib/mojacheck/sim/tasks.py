"""The background tasks of one simulator role: a role answers after the hub's request has been acknowledged, so
each answer runs as a task of its own."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

log = logging.getLogger(__name__)


class RoleTasks:
    """Tasks kept referenced (the loop holds them only weakly), their exceptions logged (never lost), cancelled
    together when the simulator stops."""

    def __init__(self, role: str) -> None:
        self.role = role
        self._tasks: set[asyncio.Task[None]] = set()

    def spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(self._guard(coro))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _guard(self, coro: Coroutine[Any, Any, None]) -> None:
        try:
            await coro
        except Exception:
            log.exception("simulator %s task failed", self.role)

    async def aclose(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
