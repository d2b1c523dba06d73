"""Audio for the MER study: decoding, log-filtered spectrograms, datasets."""
