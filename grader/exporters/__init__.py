"""One exporter per output format, each a function of a GradingResult."""
