"""RFNet-lite: the RFNet topology (Sun et al., "Real-time Fusion Network for
RGB-D Semantic Segmentation Incorporating Unexpected Obstacle Detection for
Road-driving Images", 2020) at reduced width, trained from scratch.

* two encoders of the same shape -- RGB and (optional) depth -- each a stem to
  stride 4 followed by four small residual stages at strides 4/8/16/32 with
  ``width * (1, 2, 4, 8)`` channels;
* at *every* stage the two modalities are fused by channel attention
  (squeeze-and-excitation: global average pool -> 1x1 conv -> ReLU -> 1x1 conv
  -> sigmoid, one attention per modality, re-weighted features summed); the
  fused map feeds the next RGB stage and is the decoder's skip connection,
  while the depth stream continues on its own;
* spatial pyramid pooling on the stride-32 features (1, 2, 4, 8 bins, a 1x1
  conv per level, bilinear upsampling, concatenation, 1x1 fusion);
* a ladder-style decoder (bilinear upsampling + lateral 1x1 conv of the skip
  + 3x3 blending conv) from stride 32 up to stride 4;
* a classifier and bilinear upsampling to the input size.

Inputs: ``rgb`` float (N, 3, H, W) in [0, 1]; ``depth`` float (N, 1, H, W) in
any consistent unit (normalised by a BatchNorm at the input). Output: logits
(N, num_classes, H, W).
"""

import torch
import torch.nn as nn
import torch.nn.functional as F

from sedna.examples.robo.classes import NUM_CLASSES

__all__ = ("RFNetLite", "count_parameters")

_RGB_MEAN = (0.485, 0.456, 0.406)
_RGB_STD = (0.229, 0.224, 0.225)


def count_parameters(model, trainable_only=True):
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)


def _conv_bn_relu(cin, cout, k=3, stride=1):
    return nn.Sequential(
        nn.Conv2d(cin, cout, k, stride=stride, padding=k // 2, bias=False),
        nn.BatchNorm2d(cout),
        nn.ReLU(inplace=True),
    )


class BasicBlock(nn.Module):
    """ResNet basic block (two 3x3 convs, identity or 1x1 projection shortcut)."""

    def __init__(self, cin, cout, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.shortcut = None
        if stride != 1 or cin != cout:
            self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride=stride, bias=False),
                                          nn.BatchNorm2d(cout))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)), inplace=True)
        out = self.bn2(self.conv2(out))
        idt = x if self.shortcut is None else self.shortcut(x)
        return F.relu(out + idt, inplace=True)


class Encoder(nn.Module):
    """Stem (two strided 3x3 convs, to stride 4) and four residual stages."""

    def __init__(self, in_ch, widths, blocks):
        super().__init__()
        w0 = widths[0]
        self.stem = nn.Sequential(_conv_bn_relu(in_ch, max(w0 // 2, 8), 3, 2),
                                  _conv_bn_relu(max(w0 // 2, 8), w0, 3, 2))
        stages, cin = [], w0
        for i, (cout, n) in enumerate(zip(widths, blocks)):
            layers = [BasicBlock(cin, cout, stride=1 if i == 0 else 2)]
            layers += [BasicBlock(cout, cout) for _ in range(n - 1)]
            stages.append(nn.Sequential(*layers))
            cin = cout
        self.stages = nn.ModuleList(stages)


class ChannelAttention(nn.Module):
    """Squeeze-and-excitation weights: GAP -> 1x1 -> ReLU -> 1x1 -> sigmoid."""

    def __init__(self, ch, reduction=4):
        super().__init__()
        hidden = max(ch // reduction, 4)
        self.fc1 = nn.Conv2d(ch, hidden, 1)
        self.fc2 = nn.Conv2d(hidden, ch, 1)

    def forward(self, x):
        w = F.adaptive_avg_pool2d(x, 1)
        return torch.sigmoid(self.fc2(F.relu(self.fc1(w), inplace=True)))


class AttentionFusion(nn.Module):
    """Re-weight each modality by its own channel attention, then sum."""

    def __init__(self, ch):
        super().__init__()
        self.att_rgb = ChannelAttention(ch)
        self.att_depth = ChannelAttention(ch)

    def forward(self, rgb, depth=None):
        out = rgb * self.att_rgb(rgb)
        if depth is not None:
            out = out + depth * self.att_depth(depth)
        return out


class SpatialPyramidPooling(nn.Module):
    def __init__(self, cin, cout, bins=(1, 2, 4, 8)):
        super().__init__()
        level = max(cout // len(bins), 8)
        self.bottleneck = _conv_bn_relu(cin, cout, 1)
        self.bins = tuple(bins)
        # no BatchNorm on the pooled levels: a 1x1 map with batch size 1 has one value per channel
        self.levels = nn.ModuleList([nn.Sequential(nn.Conv2d(cout, level, 1), nn.ReLU(inplace=True))
                                     for _ in bins])
        self.fuse = _conv_bn_relu(cout + level * len(bins), cout, 1)

    def forward(self, x):
        x = self.bottleneck(x)
        size = x.shape[-2:]
        feats = [x]
        for b, conv in zip(self.bins, self.levels):
            y = conv(F.adaptive_avg_pool2d(x, b))
            feats.append(F.interpolate(y, size=size, mode="bilinear", align_corners=False))
        return self.fuse(torch.cat(feats, 1))


class LadderUp(nn.Module):
    """Upsample the coarse map, add the lateral 1x1 projection of the skip, blend 3x3."""

    def __init__(self, skip_ch, ch):
        super().__init__()
        self.lateral = _conv_bn_relu(skip_ch, ch, 1)
        self.blend = _conv_bn_relu(ch, ch, 3)

    def forward(self, x, skip):
        x = F.interpolate(x, size=skip.shape[-2:], mode="bilinear", align_corners=False)
        return self.blend(x + self.lateral(skip))


class RFNetLite(nn.Module):
    """RFNet at reduced width.

    ``width``: channels of the stride-4 stage (stages get width x 1/2/4/8);
    ``blocks``: residual blocks per stage; ``decoder_ch``: decoder width
    (default ``4 * width``); ``use_depth``: build the depth encoder.
    """

    def __init__(self, num_classes=NUM_CLASSES, width=16, use_depth=True, blocks=(1, 1, 2, 1),
                 decoder_ch=None):
        super().__init__()
        self.num_classes = int(num_classes)
        self.width = int(width)
        self.use_depth = bool(use_depth)
        widths = [self.width * m for m in (1, 2, 4, 8)]
        dch = int(decoder_ch or 4 * self.width)
        self.register_buffer("rgb_mean", torch.tensor(_RGB_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("rgb_std", torch.tensor(_RGB_STD).view(1, 3, 1, 1), persistent=False)
        self.rgb = Encoder(3, widths, blocks)
        if self.use_depth:
            self.depth_norm = nn.BatchNorm2d(1)
            self.depth = Encoder(1, widths, blocks)
        self.fusion = nn.ModuleList([AttentionFusion(c) for c in widths])
        self.spp = SpatialPyramidPooling(widths[3], dch)
        self.up = nn.ModuleList([LadderUp(widths[i], dch) for i in (2, 1, 0)])
        self.head = nn.Sequential(_conv_bn_relu(dch, dch, 3), nn.Conv2d(dch, self.num_classes, 1))
        self._init_weights()

    def _init_weights(self):
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
        # start the residual branches near identity (zero-init last BN): trains faster from scratch
        for m in self.modules():
            if isinstance(m, BasicBlock):
                nn.init.zeros_(m.bn2.weight)

    def forward(self, rgb, depth=None):
        return self.forward_features(rgb, depth)[0]

    def forward_features(self, rgb, depth=None):
        """One pass: ``(logits, features)``; ``logits`` exactly as :meth:`forward`
        returns them, ``features`` a dict of intermediate maps: ``"fused"`` (the
        four fused encoder stages, strides 4 to 32), ``"spp"`` (the pyramid
        pooling output, stride 32) and ``"decoder"`` (the last decoder map,
        stride 4, what the classifier head sees). Adds no parameters."""
        size = rgb.shape[-2:]
        x = self.rgb.stem((rgb - self.rgb_mean) / self.rgb_std)
        d = None
        if self.use_depth and depth is not None:
            if depth.dim() == 3:
                depth = depth.unsqueeze(1)
            d = self.depth.stem(self.depth_norm(depth.to(x.dtype)))
        skips = []
        for i, stage in enumerate(self.rgb.stages):
            x = stage(x)
            if d is not None:
                d = self.depth.stages[i](d)
            x = self.fusion[i](x, d)
            skips.append(x)
        y = self.spp(skips[3])
        spp = y
        for up, skip in zip(self.up, (skips[2], skips[1], skips[0])):
            y = up(y, skip)
        logits = self.head(y)
        logits = F.interpolate(logits, size=size, mode="bilinear", align_corners=False)
        return logits, {"fused": skips, "spp": spp, "decoder": y}
