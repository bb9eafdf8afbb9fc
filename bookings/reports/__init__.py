"""The supervisors' monthly applicant counts: the counts, their exports and the report page."""
