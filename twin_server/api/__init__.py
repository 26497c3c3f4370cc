"""HTTP layer: routers, dependencies, middleware. Talks to services only."""
