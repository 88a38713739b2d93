"""Tables of the embedded central-settlement (behaviour ref §12), beside the window tables of ``db.py``.

Imports nothing of ours, so ``db.py`` can run it without a cycle. Every statement is idempotent.

* ``settlement``: one row per settlement, its model and current state.
* ``settlement_window_link``: the windows a settlement was created over.
* ``settlement_content_link``: which settlement took which window content (a content whose settlement was
  aborted can be taken again, so a content may have several rows; the highest settlement id is current).
* ``settlement_account``: one row per participant POSITION account in a settlement, with its net amount
  (positive = net sender), state, and the settlement transfer booked for it (``autoPositionReset``).
* ``settlement_window_closing``: windows in PROCESSING and when their close completes (closing is
  asynchronous in central-settlement; the hub completes it lazily once ``due_ts`` has passed).
* ``settlement_state_change``: the journal of every settlement, account and window state change.
"""

from __future__ import annotations

SETTLEMENT_SCHEMA = """
CREATE TABLE IF NOT EXISTS settlement (
    id INTEGER PRIMARY KEY, model_id INTEGER NOT NULL REFERENCES settlement_model(id), state TEXT NOT NULL,
    reason TEXT, created TEXT NOT NULL, changed TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS settlement_window_link (
    settlement_id INTEGER NOT NULL REFERENCES settlement(id),
    window_id INTEGER NOT NULL REFERENCES settlement_window(id), PRIMARY KEY (settlement_id, window_id));
CREATE TABLE IF NOT EXISTS settlement_content_link (
    content_id INTEGER NOT NULL REFERENCES settlement_window_content(id),
    settlement_id INTEGER NOT NULL REFERENCES settlement(id), PRIMARY KEY (content_id, settlement_id));
CREATE TABLE IF NOT EXISTS settlement_account (
    id INTEGER PRIMARY KEY, settlement_id INTEGER NOT NULL REFERENCES settlement(id),
    account_id INTEGER NOT NULL REFERENCES account(id), net_amount TEXT NOT NULL, state TEXT NOT NULL,
    reason TEXT, external_reference TEXT, transfer_id TEXT, transfer_state TEXT,
    created TEXT NOT NULL, changed TEXT NOT NULL, UNIQUE (settlement_id, account_id));
CREATE TABLE IF NOT EXISTS settlement_window_closing (
    window_id INTEGER PRIMARY KEY REFERENCES settlement_window(id), due_ts REAL NOT NULL, reason TEXT);
CREATE TABLE IF NOT EXISTS settlement_state_change (
    id INTEGER PRIMARY KEY, entity TEXT NOT NULL, entity_id INTEGER NOT NULL, state TEXT NOT NULL,
    reason TEXT, created TEXT NOT NULL);
"""
