"""transaction-requests-service: ``/transactionRequests`` and ``/authorizations`` as the stateless relay it is."""
