"""Verification: provider verification (核实), bureau review and pre-approval, filing numbers."""
