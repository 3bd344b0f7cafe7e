"""Everyday pages: announcements, laws, feedback, code tables."""
