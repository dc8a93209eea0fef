"""Load the shipped ONNX recognizer into a PlateCRNN, to continue training from it.

The ONNX export folds each BatchNorm into its convolution, so the folded weights go into the conv and
the folded bias into a BatchNorm set to the identity (mean 0, variance 1); training from such a start
keeps the BatchNorm layers frozen (``freeze_batchnorm``), which keeps the two exactly equivalent.
LSTM gates are stored i, o, f, c in ONNX and i, f, g, o in torch.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import torch
from model import PlateCRNN
from onnx import numpy_helper
from torch import nn


def _onnx_to_torch_gates(w: np.ndarray, hidden: int) -> np.ndarray:
    i, o, f, c = (w[k * hidden : (k + 1) * hidden] for k in range(4))
    return np.concatenate([i, f, c, o], axis=0)


def from_onnx(path: str | Path) -> PlateCRNN:
    graph = onnx.load(str(path)).graph
    init = {t.name: numpy_helper.to_array(t) for t in graph.initializer}
    model = PlateCRNN()
    convs = [n for n in graph.node if n.op_type == "Conv"]
    bns = [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
    conv_mods = [m for m in model.modules() if isinstance(m, nn.Conv2d)]
    assert len(convs) == len(conv_mods) == len(bns) == 6, (len(convs), len(conv_mods), len(bns))
    with torch.no_grad():
        for node, conv, bn in zip(convs, conv_mods, bns, strict=True):
            w, b = init[node.input[1]], init[node.input[2]]
            conv.weight.copy_(torch.from_numpy(w.copy()))
            bn.running_mean.zero_()
            bn.running_var.fill_(1.0)
            bn.weight.fill_(float(np.sqrt(1.0 + bn.eps)))
            bn.bias.copy_(torch.from_numpy(b))
        lstm = next(n for n in graph.node if n.op_type == "LSTM")
        w, r, bias = (init[name] for name in lstm.input[1:4])
        hidden = model.rnn.hidden_size
        for d, suffix in enumerate(("", "_reverse")):
            getattr(model.rnn, f"weight_ih_l0{suffix}").copy_(torch.from_numpy(_onnx_to_torch_gates(w[d], hidden)))
            getattr(model.rnn, f"weight_hh_l0{suffix}").copy_(torch.from_numpy(_onnx_to_torch_gates(r[d], hidden)))
            wb, rb = bias[d][: 4 * hidden], bias[d][4 * hidden :]
            getattr(model.rnn, f"bias_ih_l0{suffix}").copy_(torch.from_numpy(_onnx_to_torch_gates(wb, hidden)))
            getattr(model.rnn, f"bias_hh_l0{suffix}").copy_(torch.from_numpy(_onnx_to_torch_gates(rb, hidden)))
        matmul = next(n for n in graph.node if n.op_type == "MatMul")
        model.head.weight.copy_(torch.from_numpy(init[matmul.input[1]].T.copy()))
        model.head.bias.copy_(torch.from_numpy(init["head.bias"]))
    return model


def freeze_batchnorm(model: nn.Module) -> None:
    """Keep BatchNorm statistics fixed (call after every ``model.train()``)."""
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.eval()
