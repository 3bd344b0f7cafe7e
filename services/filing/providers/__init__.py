"""Providers (tenants): registration and listing."""
