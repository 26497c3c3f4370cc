"""One router per resource; each route declares its access rule (see ``api.deps``)."""

from __future__ import annotations

from . import auth, elements, geometry, health, issues, models, org, portfolio, schedules, sensors

#: Every router of the API, in the order they are mounted.
ROUTERS = (
    auth.router,
    org.router,
    models.router,
    elements.router,
    geometry.router,
    schedules.router,
    issues.router,
    portfolio.router,
    sensors.router,
    health.router,
)
