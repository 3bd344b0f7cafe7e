-- Statistics of earlier dates group a website by the access methods it had then: the active ones,
-- else (no access left, or cancelled) those of its last access records.
ALTER TABLE websites ADD COLUMN stat_access_methods text[] NOT NULL DEFAULT '{}';
-- likewise a provider's statistics count the websites it gave access to until they were cancelled
ALTER TABLE websites ADD COLUMN stat_provider_ids text[] NOT NULL DEFAULT '{}';
UPDATE websites SET stat_access_methods = access_methods, stat_provider_ids = provider_ids;
CREATE INDEX websites_stat_providers ON websites USING gin (stat_provider_ids);
-- the statistics scan these columns only (index-only scans on large read models)
CREATE INDEX websites_stats ON websites (province, approved_at) INCLUDE (cancelled_at, nature, subject_id);
