"""Business changes: add website/access, subject/website/access changes, cancel access, corrections."""
