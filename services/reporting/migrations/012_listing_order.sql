-- Lists are ordered by (approved_at, website_id) in one direction: an index in that order serves both
-- directions (forward for newest first, backward for oldest first) without sorting the matches.
DROP INDEX websites_approved;
CREATE INDEX websites_approved ON websites (approved_at DESC, website_id DESC);
