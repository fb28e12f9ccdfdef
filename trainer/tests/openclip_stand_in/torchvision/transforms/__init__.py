"""Transform names open_clip imports; the test preprocesses with transformers instead, so calling one is an error."""
import enum

from . import functional  # noqa: F401


class InterpolationMode(enum.Enum):
    NEAREST = "nearest"
    BILINEAR = "bilinear"
    BICUBIC = "bicubic"
    LANCZOS = "lanczos"


class _Unused:
    def __init__(self, *args, **kwargs):
        pass

    def __call__(self, *args, **kwargs):
        raise NotImplementedError("torchvision stand-in: transforms are not available")


Normalize = Compose = RandomResizedCrop = ToTensor = Resize = CenterCrop = ColorJitter = _Unused
RandomGrayscale = Grayscale = RandomHorizontalFlip = _Unused
