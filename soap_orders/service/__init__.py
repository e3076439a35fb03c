"""Use cases over ports: what the service does, independent of SOAP and of the database."""
