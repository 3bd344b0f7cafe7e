"""Filing: accounts and login, the entry wizard, records, changes; applies review outcomes."""
