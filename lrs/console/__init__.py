"""The web console (`/console/…`): a server-rendered page per task of each role, each with a
small script that calls the same JSON APIs scripts use; nothing here bypasses them (DESIGN §6)."""

from __future__ import annotations

from lrs.console.pages import routes

__all__ = ["routes"]
