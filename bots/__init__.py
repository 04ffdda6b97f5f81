"""Channel adapters (Twilio, Telegram) implementing the ports defined in `routing`."""
