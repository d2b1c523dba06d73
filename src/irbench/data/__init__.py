"""Datasets: generators for the synthetic defaults and loaders for the real datasets."""
