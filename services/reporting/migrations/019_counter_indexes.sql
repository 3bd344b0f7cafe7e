-- The statistics read the counters of a few day ranges and of the months before a day: with the numbers
-- in an index ordered by day (month), those are index-only scans wherever the rows happen to lie in the
-- table (the 1M bench's 5,000 day rows lay in 4,600 blocks after 016's back-fill: 375 ms under load).
CREATE INDEX website_daily_days ON website_daily (day) INCLUDE (province, nature, filing_method, delta, approved);
CREATE INDEX website_monthly_months ON website_monthly (month) INCLUDE (province, nature, filing_method, delta, approved);
