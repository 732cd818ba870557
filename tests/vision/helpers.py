"""What the vision tests share."""

import microseq as ms


class PatchMeans(ms.nn.Module):
    """A stand-in image encoder: the mean colour of each 8x8 patch, (B, 3, S/8, S/8); no parameters."""

    def forward(self, images):
        b, c, s, _ = images.shape
        patches = ms.ops.reshape(images, (b, c, s // 8, 8, s // 8, 8))
        return ms.ops.mean(ms.ops.mean(patches, axis=5), axis=3)
