"""GET an intranet URL whose server chains to the company's own root CA."""
