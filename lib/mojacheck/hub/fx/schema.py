"""SQLite tables of the FX domain: conversions (``fx_transfer``, which is also central-ledger's watch list through
``determining_transfer_id``) and the fxQuote ids seen (duplicate detection)."""

from __future__ import annotations

FX_SCHEMA = """
CREATE TABLE IF NOT EXISTS fx_transfer (
    commit_request_id TEXT PRIMARY KEY, determining_transfer_id TEXT, initiating_fsp TEXT NOT NULL,
    counterparty_fsp TEXT NOT NULL, source_amount TEXT NOT NULL, source_currency TEXT NOT NULL,
    target_amount TEXT NOT NULL, target_currency TEXT NOT NULL, condition TEXT NOT NULL, expiration TEXT,
    expiration_ts REAL, state TEXT NOT NULL, watched INTEGER NOT NULL DEFAULT 0, body_hash TEXT NOT NULL,
    prepare_body BLOB NOT NULL, fulfilment TEXT, fulfilled_at TEXT, completed_timestamp TEXT, fulfil_hash TEXT,
    error_hash TEXT, error_code TEXT, error_description TEXT, fulfil_window_id INTEGER,
    created TEXT NOT NULL, changed TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS fx_transfer_determining ON fx_transfer (determining_transfer_id);
CREATE INDEX IF NOT EXISTS fx_transfer_open ON fx_transfer (state, expiration_ts);
CREATE TABLE IF NOT EXISTS fx_quote (
    id TEXT PRIMARY KEY, requester TEXT NOT NULL, fxp TEXT NOT NULL, body_hash TEXT NOT NULL, created TEXT NOT NULL);
"""
