"""sitt: Student-Informed Teacher Training (Messikommer et al., ICLR 2025) on stable-baselines3.

``SITT`` is SB3's PPO with the method's three phases (roll-out reward term, policy-update term, alignment);
``SITTConfig`` selects the recipe (``release`` or ``paper``) and every ablation switch.
"""

from sitt.algorithm import SITT
from sitt.config import SITTConfig, recipe_defaults

__version__ = "0.1.0"
__all__ = ["SITT", "SITTConfig", "recipe_defaults", "__version__"]
