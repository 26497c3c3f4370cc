"""One router per resource; each route declares its access rule (see ``api.deps``)."""
