"""Sponsor (主办者) accounts: generated credentials, the provider's list and password resets."""
