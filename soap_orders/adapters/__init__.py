"""Concrete adapters behind the service ports: SQLAlchemy storage and its migrations."""
