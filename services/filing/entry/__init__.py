"""First filings: the entry wizard, POST /filings, group commit, the importer's batches."""
