"""Explanations: attribution methods and the scores that compare them with ground-truth masks."""
