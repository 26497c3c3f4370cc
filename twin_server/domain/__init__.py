"""Pure domain rules of the twin: stdlib and dataclasses only, no I/O, no clock.

Every rule lives here once (who may do what where, which revision states follow which);
services apply them, the API only reports their verdicts.
"""
