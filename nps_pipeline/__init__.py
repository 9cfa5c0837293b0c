"""nps_pipeline: survey exports in a landing zone to trustworthy daily NPS tables."""
