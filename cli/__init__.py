"""How this app's commands (``app.py``, ``python -m verify``) end: one message, an exit code, no
traceback (``outcome.py``)."""
