"""irbench: are interpretable models more robust, and robust models more interpretable?

One library serves every study: data generators and loaders, models, one attack module, one training
loop with pluggable objectives, one evaluation battery, MLflow mirroring and report tables.
"""

__version__ = "0.1.0"
