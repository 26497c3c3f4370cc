"""Persistence: SQLAlchemy tables, engine set-up and Alembic migrations.

ORM rows stay inside this package and ``services``; the API sees domain dataclasses.
"""
