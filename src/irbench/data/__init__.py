"""What every dataset kind shares (the kinds themselves, loader and registration, are irbench.datasets):
the prepared tensor files the jobs read (`tensors`), the MER kinds' split and standardisation
(`mer_splits`), and CIFAR-10-C's corruptions, generated from any prepared split (`cifar10c`)."""
