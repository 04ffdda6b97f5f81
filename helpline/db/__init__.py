"""Storage: SQLAlchemy models, engine and the organisation register."""
