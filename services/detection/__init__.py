"""Detection: unfiled-site detections from other systems, handling, statistics, blacklists."""
