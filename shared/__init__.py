"""The platform every ICP service is built on: config, database, bus, web, auth, validators."""
