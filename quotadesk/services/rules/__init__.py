"""The product's rules as pure functions and values: no SQLAlchemy, no I/O.

quantities (units and their bounds), money (amounts and currencies), periods (boundaries and
due dates), rating (the order of consumption), plan_terms (a subscription's snapshot),
timeline (time runs forward; local times), alerts (what an alert says), account (one client's
catch-up, consumption, credits, revokes and blocks).
"""
