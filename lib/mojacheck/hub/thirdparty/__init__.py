"""3PPI: thirdparty-api-svc's relay (``TP_CB_URL_*``), its request validation, and the hub's auth-service
(``/auth-service``: consents, credentials, verifications).
"""
