"""The quoting-service: ``/quotes`` relayed between payer and payee FSPs, with duplicate detection.
"""
