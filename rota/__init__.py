"""The rota engine: who is on duty for a kommune at any instant. Pure: no I/O, no clock."""
