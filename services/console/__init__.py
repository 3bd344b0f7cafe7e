"""The web console (static client of the gateway): see README.md."""
