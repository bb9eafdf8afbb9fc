"""The two-machine drill on one host: two web groups behind nginx, two workers, a kill mid-rush."""
