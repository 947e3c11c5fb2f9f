"""Batched augmentation on uint8 face batches: affine jitter, flip, photometric jitter, erasing."""

import math

import torch
import torch.nn.functional as F


def augment(x, generator, rotate=15.0, scale=0.1, shift=0.1, erase=0.5):
    """Augment a float batch [N,1,H,W] in [0,1]; returns a new tensor of the same shape."""
    n = x.shape[0]

    def uniform(low, high):
        return torch.rand(n, generator=generator) * (high - low) + low

    angle = uniform(-rotate, rotate) * math.pi / 180
    s = uniform(1 - scale, 1 + scale)
    flip = torch.where(torch.rand(n, generator=generator) < 0.5, -1.0, 1.0)
    cos, sin = torch.cos(angle) / s, torch.sin(angle) / s
    theta = torch.stack(
        [
            torch.stack([cos * flip, -sin, uniform(-shift, shift)], dim=1),
            torch.stack([sin * flip, cos, uniform(-shift, shift)], dim=1),
        ],
        dim=1,
    )
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    x = F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)

    contrast = uniform(0.7, 1.3).view(n, 1, 1, 1)
    brightness = uniform(-0.15, 0.15).view(n, 1, 1, 1)
    mean = x.mean(dim=(1, 2, 3), keepdim=True)
    x = ((x - mean) * contrast + mean + brightness).clamp(0, 1)

    if erase > 0:
        h, w = x.shape[2], x.shape[3]
        area = uniform(0.02, 0.2) * h * w
        ratio = torch.exp(uniform(math.log(0.3), math.log(3.3)))
        eh = (area * ratio).sqrt().clamp(1, h - 1).long()
        ew = (area / ratio).sqrt().clamp(1, w - 1).long()
        top = (torch.rand(n, generator=generator) * (h - eh)).long()
        left = (torch.rand(n, generator=generator) * (w - ew)).long()
        rows = torch.arange(h).view(1, h, 1)
        cols = torch.arange(w).view(1, 1, w)
        mask = (
            (rows >= top.view(n, 1, 1))
            & (rows < (top + eh).view(n, 1, 1))
            & (cols >= left.view(n, 1, 1))
            & (cols < (left + ew).view(n, 1, 1))
        )
        mask &= (torch.rand(n, generator=generator) < erase).view(n, 1, 1)
        noise = torch.rand(x.shape, generator=generator)
        x = torch.where(mask.unsqueeze(1), noise, x)
    return x


# IJG's luminance quantisation table (JPEG Annex K), the one libjpeg scales by quality.
JPEG_LUMA = torch.tensor(
    [
        [16, 11, 10, 16, 24, 40, 51, 61],
        [12, 12, 14, 19, 26, 58, 60, 55],
        [14, 13, 16, 24, 40, 57, 69, 56],
        [14, 17, 22, 29, 51, 87, 80, 62],
        [18, 22, 37, 56, 68, 109, 103, 77],
        [24, 35, 55, 64, 81, 104, 113, 92],
        [49, 64, 78, 87, 103, 121, 120, 101],
        [72, 92, 95, 98, 112, 100, 103, 99],
    ],
    dtype=torch.float32,
)


def _dct_matrix(n=8):
    """Orthonormal DCT-II matrix."""
    k = torch.arange(n, dtype=torch.float32).view(-1, 1)
    i = torch.arange(n, dtype=torch.float32).view(1, -1)
    m = torch.cos(math.pi * (2 * i + 1) * k / (2 * n)) * math.sqrt(2 / n)
    m[0] /= math.sqrt(2)
    return m


DCT8 = _dct_matrix()


def jpeg_quality_table(quality):
    """Per-image luminance tables [N,8,8] for JPEG qualities [N] (libjpeg's scaling, clamped to 1..255)."""
    q = quality.float().clamp(1, 100)
    scale = torch.where(q < 50, 5000 / q, 200 - 2 * q).view(-1, 1, 1)
    return ((JPEG_LUMA * scale + 50) / 100).floor().clamp(1, 255)


def jpeg(x, quality):
    """Grey JPEG round trip of [N,1,H,W] in [0,1] (H, W multiples of 8): 8x8 DCT, quantise, inverse."""
    n, _, h, w = x.shape
    blocks = (x[:, 0] * 255 - 128).reshape(n, h // 8, 8, w // 8, 8).permute(0, 1, 3, 2, 4)
    coeff = DCT8 @ blocks @ DCT8.T
    table = jpeg_quality_table(quality).view(n, 1, 1, 8, 8)
    coeff = torch.round(coeff / table) * table
    out = (DCT8.T @ coeff @ DCT8).permute(0, 1, 3, 2, 4).reshape(n, 1, h, w)
    return ((out + 128).round().clamp(0, 255)) / 255


def resample(x, size):
    """Downscale [N,1,H,W] to size x size (area average, as a small video tile) and back up (bilinear)."""
    h = x.shape[2]
    small = F.interpolate(x, size=(size, size), mode="area") if size < h else x
    return F.interpolate(small, size=(h, x.shape[3]), mode="bilinear", align_corners=False)


def gaussian_blur(x, sigma):
    """Blur [N,1,H,W] with a per-image Gaussian (sigma [N] in pixels), separable, edge-replicated."""
    radius = 3
    t = torch.arange(-radius, radius + 1, dtype=torch.float32).view(1, -1)
    kernel = torch.exp(-(t**2) / (2 * sigma.view(-1, 1).clamp_min(1e-3) ** 2))
    kernel = kernel / kernel.sum(1, keepdim=True)
    n = x.shape[0]
    y = F.pad(x.transpose(0, 1), (radius, radius, 0, 0), mode="replicate")
    y = F.conv2d(y, kernel.view(n, 1, 1, -1), groups=n)
    y = F.pad(y, (0, 0, radius, radius), mode="replicate")
    y = F.conv2d(y, kernel.view(n, 1, -1, 1), groups=n)
    return y.transpose(0, 1)


def uneven_light(x, strength, angle):
    """Add a linear brightness ramp across the face (light from one side): strength [N] in [0,1] units."""
    h, w = x.shape[2], x.shape[3]
    yy = torch.linspace(-1, 1, h).view(1, 1, h, 1)
    xx = torch.linspace(-1, 1, w).view(1, 1, 1, w)
    ramp = torch.cos(angle).view(-1, 1, 1, 1) * xx + torch.sin(angle).view(-1, 1, 1, 1) * yy
    return (x + strength.view(-1, 1, 1, 1) * ramp).clamp(0, 1)


def robustness(x, generator, p=0.5):
    """Deployment degradations on [N,1,48,48] in [0,1], each on a random subset of the batch.

    Models where Mien runs: small call tiles (downscale to 12-40 px and back), webcam blur, JPEG
    artefacts (quality 15-75), gamma 0.5-2 and uneven light, sensor noise. `p` scales how often each
    is applied; some faces stay clean.
    """
    n = x.shape[0]

    def pick(prob):
        return (torch.rand(n, generator=generator) < prob * p).view(n, 1, 1, 1)

    def uniform(low, high):
        return torch.rand(n, generator=generator) * (high - low) + low

    mask = pick(0.6)
    sizes = torch.randint(12, 41, (4,), generator=generator)
    group = torch.randint(0, 4, (n,), generator=generator)
    small = x.clone()
    for k, size in enumerate(sizes.tolist()):
        rows = group == k
        if rows.any():
            small[rows] = resample(x[rows], size)
    x = torch.where(mask, small, x)
    x = torch.where(pick(0.3), gaussian_blur(x, uniform(0.4, 1.4)), x)
    gamma = torch.exp(uniform(math.log(0.5), math.log(2.0))).view(n, 1, 1, 1)
    x = torch.where(pick(0.5), x.clamp_min(1e-4) ** gamma, x)
    x = torch.where(pick(0.4), uneven_light(x, uniform(0.05, 0.3), uniform(0, 2 * math.pi)), x)
    x = torch.where(pick(0.3), (x + torch.randn(x.shape, generator=generator) * uniform(0.005, 0.03).view(n, 1, 1, 1)).clamp(0, 1), x)
    x = torch.where(pick(0.5), jpeg(x, uniform(15, 75).round()), x)
    return x
