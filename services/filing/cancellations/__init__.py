"""Cancellation requests (注销主体 / 注销网站)."""
