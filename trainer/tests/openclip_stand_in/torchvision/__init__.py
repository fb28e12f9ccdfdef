"""Stand-in for torchvision (see ../README.md): importable, never used."""
from . import ops, transforms  # noqa: F401
