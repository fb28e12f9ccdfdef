class FrozenBatchNorm2d:  # noqa: D101 — a ResNet layer the ViT never builds
    def __init__(self, *args, **kwargs):
        raise NotImplementedError("torchvision stand-in: FrozenBatchNorm2d")
