"""R reference fixtures (see README.md); ``cases.load_case`` reads one case."""
