"""DenseFaceNet: face-api.js's expression network (MIT) as a trainable PyTorch module, and its weights.

face-api.js's FaceExpressionNet is four dense blocks of separable convolutions (32, 64, 128, 256 channels,
each block halving the resolution: 112 -> 7), a global average pool and a linear layer to 7 classes.
Mien starts its large model from those weights (trained by face-api.js on far more faces than FER+) and
trains on, so what that network learnt about posed and stock-photo faces is the starting point.
Input: one grey channel in [0,1], any size that is a multiple of 16 (face-api uses 112); the network
repeats it into three channels and subtracts face-api's mean RGB, so it computes face-api's function on
grey faces given as R = G = B.
"""

import json
from pathlib import Path

import numpy as np
import torch
from torch import nn

PROJECT = Path(__file__).resolve().parent.parent
FACE_API_MODEL = PROJECT / "node_modules/@vladmandic/face-api/model/face_expression_model"
# face-api's expression labels in its output order; Mien's CLASSES order is RAF-DB's.
FACE_API_LABELS = ["neutral", "happy", "sad", "angry", "fearful", "disgusted", "surprised"]
TO_MIEN = [6, 4, 5, 1, 2, 3, 0]  # Mien class i is face-api output TO_MIEN[i]
MEAN_RGB = [122.782, 117.001, 104.298]
CHANNELS = [32, 64, 128, 256]


def same_pad(x, stride):
    """TF SAME padding for a 3x3 kernel at stride 2 on even sizes: one row and column, right and bottom."""
    assert stride == 2
    return nn.functional.pad(x, (0, 1, 0, 1))


class SepConv(nn.Module):
    """Depthwise 3x3 (no bias) then pointwise 1x1 with bias, TF SAME padding (the conv's own at stride 1)."""

    def __init__(self, cin, cout, stride):
        super().__init__()
        self.stride = stride
        self.dw = nn.Conv2d(cin, cin, 3, stride, 1 if stride == 1 else 0, groups=cin, bias=False)
        self.pw = nn.Conv2d(cin, cout, 1, bias=True)

    def forward(self, x):
        return self.pw(self.dw(x if self.stride == 1 else same_pad(x, 2)))


class FirstConv(nn.Module):
    """The regular 3x3 stride-2 convolution that opens the network, with bias."""

    def __init__(self, cin, cout):
        super().__init__()
        self.stride = 2
        self.conv = nn.Conv2d(cin, cout, 3, 2, 0, bias=True)

    def forward(self, x):
        return self.conv(same_pad(x, 2))


class DenseBlock(nn.Module):
    """face-api's denseBlock4: four convolutions, each fed the ReLU of the sum of the earlier outputs."""

    def __init__(self, cin, cout, first):
        super().__init__()
        self.convs = nn.ModuleList(
            [FirstConv(cin, cout) if first else SepConv(cin, cout, 2)] + [SepConv(cout, cout, 1) for _ in range(3)]
        )

    def forward(self, x):
        first = torch.relu(self.convs[0](x))
        total = first
        for conv in self.convs[1:]:
            total = total + conv(total if total is first else torch.relu(total))
        return torch.relu(total)


class DenseFaceNet(nn.Module):
    """face-api.js's expression network on grey input in [0,1], logits in Mien's class order."""

    def __init__(self, num_classes=7, dropout=0.0, channels=CHANNELS):
        super().__init__()
        self.config = {"arch": "dense", "channels": list(channels), "num_classes": num_classes}
        self.register_buffer("mean", torch.tensor(MEAN_RGB).view(1, 3, 1, 1) / 255)
        blocks, cin = [], 3
        for i, cout in enumerate(channels):
            blocks.append(DenseBlock(cin, cout, i == 0))
            cin = cout
        self.blocks = nn.ModuleList(blocks)
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(cin, num_classes)

    def features(self, x):
        """The activations after every dense block."""
        x = x - self.mean  # [N,1,H,W] grey -> [N,3,H,W], face-api's normalisation of R = G = B
        outs = []
        for block in self.blocks:
            x = block(x)
            outs.append(x)
        return outs

    def forward(self, x):
        x = self.features(x)[-1]
        return self.fc(self.dropout(x.mean(dim=(2, 3))))


def read_tfjs_weights(prefix):
    """A face-api weights manifest + .bin as {name: float32 array}, dequantising uint8 weights."""
    prefix = Path(prefix)
    manifest = json.loads(Path(f"{prefix}-weights_manifest.json").read_text())
    weights = {}
    for group in manifest:
        data = b"".join((prefix.parent / path).read_bytes() for path in group["paths"])
        offset = 0
        for entry in group["weights"]:
            count = int(np.prod(entry["shape"]))
            quant = entry.get("quantization")
            if quant:
                dtype = np.dtype(quant["dtype"])
                raw = np.frombuffer(data, dtype, count, offset)
                values = raw.astype(np.float32) * quant["scale"] + quant["min"]
            else:
                dtype = np.dtype(entry["dtype"])
                values = np.frombuffer(data, dtype, count, offset).astype(np.float32)
            offset += count * dtype.itemsize
            weights[entry["name"]] = values.reshape(entry["shape"])
    return weights


def load_faceapi(net, prefix=FACE_API_MODEL):
    """Copy face-api.js's expression weights into a DenseFaceNet (classifier rows put in Mien's order)."""
    w = read_tfjs_weights(prefix)
    with torch.no_grad():
        for b, block in enumerate(net.blocks):
            for c, conv in enumerate(block.convs):
                name = f"dense{b}/conv{c}"
                if isinstance(conv, FirstConv):
                    conv.conv.weight.copy_(torch.from_numpy(w[f"{name}/filters"]).permute(3, 2, 0, 1))
                    conv.conv.bias.copy_(torch.from_numpy(w[f"{name}/bias"]))
                else:
                    conv.dw.weight.copy_(torch.from_numpy(w[f"{name}/depthwise_filter"]).permute(2, 3, 0, 1))
                    conv.pw.weight.copy_(torch.from_numpy(w[f"{name}/pointwise_filter"]).permute(3, 2, 0, 1))
                    conv.pw.bias.copy_(torch.from_numpy(w[f"{name}/bias"]))
        net.fc.weight.copy_(torch.from_numpy(w["fc/weights"]).T[TO_MIEN])
        net.fc.bias.copy_(torch.from_numpy(w["fc/bias"])[TO_MIEN])
    return net
