"""Use cases: one function per action, ``verb_noun(session, *, ...)``.

Services take their collaborators (a database session, the blob store, the queue) as
arguments, apply the domain rules and return domain dataclasses, never ORM rows.
"""
