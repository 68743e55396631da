"""sitt: Student-Informed Teacher Training (Messikommer et al., ICLR 2025) on stable-baselines3."""

__version__ = "0.1.0"
