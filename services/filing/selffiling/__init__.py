"""自主备案 (self-filing, issue 11): a sponsor registers its own account (`registration.py`), files its
subject and websites with the entry wizard's drafts (`services/filing/entry/` in self mode, written
by `store.py`: no provider, no access record, straight to its province's bureau), and follows its
applications (`api.py`). A provider adds its access afterwards with the sponsor's credentials (新增接入,
`services/filing/changes.py`)."""
