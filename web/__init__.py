"""Maillage web application (Flask): public resource search, plans, ARS review.

Build it with :func:`web.app.create_app`; nothing is created at import time.
"""
