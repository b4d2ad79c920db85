"""`make bench`: end-to-end figures for Signpost beside a raw aiokafka baseline on the same broker."""
