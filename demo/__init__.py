"""Demo data across every app: the top of the dependency graph (docs/architecture.md).

It orchestrates consent, conversations and experiments to fill a fresh machine; nothing
imports it, so it may import any app.
"""
