-- The inbox by consumer and time: housekeeping deletes the oldest rows by processed_at, and reporting's
-- dashboard reads the newest ("figures as of"), each a scan of the whole inbox without it (a month of
-- applied events, a million rows and more at a year of England's referrals).
CREATE INDEX inbox_by_consumer_and_time ON inbox (consumer, processed_at);
