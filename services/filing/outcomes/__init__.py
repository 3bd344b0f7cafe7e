"""Review outcomes from verification and what an approval changes in the records."""
