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
