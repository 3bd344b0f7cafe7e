"""Filed records: subjects, websites, their history, cross-provider subject search, record events."""
