"""Published numbers as data, audited, and reproduced by calibrated simulation."""
