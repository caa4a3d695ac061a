"""The intranet server: REST API (FastAPI), background analysis (huey) and signed webhooks.

Build the web application with :func:`irpatrol.server.app.create_app`; nothing is
created at import.  ``irpatrol serve`` runs it with uvicorn and an in-process
analysis worker; ``irpatrol worker`` runs more workers (docs/server.md).
"""
