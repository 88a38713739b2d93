"""What a run proves and how it is shown: ``checks`` (checks, scenarios, records), ``render`` (the HTML and text a
scenario leaves in the notebook, and the scraps the runner reads), ``conformance`` (callback bodies against the
official FSPIOP OpenAPI definitions).
"""
