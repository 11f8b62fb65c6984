"""Scene text: detection, per-region language identification (MENTOR), rendering of data."""
