"""The order domain: entities, value objects, the rules for acting on orders, and domain errors.

Standard library only. Everything above this package (use cases, adapters, the SOAP layer)
depends on it; it depends on nothing of theirs.
"""
