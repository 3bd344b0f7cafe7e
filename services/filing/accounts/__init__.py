"""Accounts: captcha, login/logout, me and password, user administration (per-address limits: shared/ratelimit.py)."""
