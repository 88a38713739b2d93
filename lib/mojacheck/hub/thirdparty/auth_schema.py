"""Tables of the embedded auth-service (run by ``db.py``): the consents it holds and their credentials.

A consent row is the hub's authoritative copy of a 3PPI Consent: who issued it (the DFSP), its scopes, the
PISP's public key, the challenge the key signed at registration, and whether it is still ACTIVE or REVOKED.
"""

AUTH_SERVICE_SCHEMA = """
CREATE TABLE IF NOT EXISTS tp_consent (
    consent_id TEXT PRIMARY KEY, participant_id TEXT NOT NULL, status TEXT NOT NULL, scopes TEXT NOT NULL,
    credential_type TEXT NOT NULL, public_key TEXT NOT NULL, challenge TEXT NOT NULL, credential TEXT NOT NULL,
    created TEXT NOT NULL, revoked_at TEXT);
"""
