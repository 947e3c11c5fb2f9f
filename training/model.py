"""MienNet: a small residual depthwise-separable CNN for 48x48 grayscale faces."""

import torch
from torch import nn

# (output channels, stride, repeats) per stage, after a 3x3 stem.
DEFAULT_STAGES = [(64, 1, 2), (128, 2, 3), (256, 2, 2)]
DEFAULT_STEM = 32
DEFAULT_STEM_STRIDE = 2


class SeparableBlock(nn.Module):
    """Depthwise 3x3 + BN + ReLU, pointwise 1x1 + BN, residual when shapes allow, then ReLU."""

    def __init__(self, cin, cout, stride):
        super().__init__()
        self.stride = stride
        self.dw = nn.Conv2d(cin, cin, 3, stride, 1 if stride == 1 else 0, groups=cin, bias=False)
        self.dw_bn = nn.BatchNorm2d(cin)
        self.pw = nn.Conv2d(cin, cout, 1, bias=False)
        self.pw_bn = nn.BatchNorm2d(cout)
        self.residual = stride == 1 and cin == cout

    def forward(self, x):
        inp = x
        if self.stride != 1:
            # TF "SAME" padding for stride 2 on even sizes: pad right/bottom only.
            x = nn.functional.pad(x, (0, 1, 0, 1))
        x = torch.relu(self.dw_bn(self.dw(x)))
        x = self.pw_bn(self.pw(x))
        if self.residual:
            x = x + inp
        return torch.relu(x)


class MienNet(nn.Module):
    """Stem conv, separable stages, global average pool, dropout, linear classifier."""

    def __init__(self, stem=DEFAULT_STEM, stages=DEFAULT_STAGES, num_classes=7, dropout=0.2, stem_stride=DEFAULT_STEM_STRIDE):
        super().__init__()
        self.config = {"stem": stem, "stem_stride": stem_stride, "stages": [list(s) for s in stages], "num_classes": num_classes}
        self.stem_stride = stem_stride
        self.stem = nn.Conv2d(1, stem, 3, stem_stride, 1 if stem_stride == 1 else 0, bias=False)
        self.stem_bn = nn.BatchNorm2d(stem)
        blocks, cin = [], stem
        for cout, stride, repeats in stages:
            for i in range(repeats):
                blocks.append(SeparableBlock(cin, cout, stride if i == 0 else 1))
                cin = cout
        self.blocks = nn.ModuleList(blocks)
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(cin, num_classes)

    def features(self, x):
        """Return the activations after the stem and after every block."""
        if self.stem_stride != 1:
            x = nn.functional.pad(x, (0, 1, 0, 1))
        x = torch.relu(self.stem_bn(self.stem(x)))
        outs = [x]
        for block in self.blocks:
            x = block(x)
            outs.append(x)
        return outs

    def forward(self, x):
        x = self.features(x)[-1]
        return self.fc(self.dropout(x.mean(dim=(2, 3))))


def count_macs(model, size=48):
    """Multiply-adds of convolutions and the classifier for one input."""
    macs = 0
    hooks = []

    def conv_hook(module, _inp, out):
        nonlocal macs
        k = module.kernel_size[0] * module.kernel_size[1] * module.in_channels // module.groups
        macs += out.numel() * k

    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            hooks.append(m.register_forward_hook(conv_hook))
    model.eval()
    with torch.no_grad():
        model(torch.zeros(1, 1, size, size))
    for h in hooks:
        h.remove()
    fc = model.fc
    return macs + fc.in_features * fc.out_features
