"""One way to write a torch module as ONNX, shared by every exporter of the stack.

TorchScript-based ``torch.onnx.export`` (``dynamo=False``): the graphs slice positional tables and
caches by input lengths, which this exporter records as Shape/Slice ops with named dynamic axes.
Knows nothing about any model.
"""

from __future__ import annotations

from pathlib import Path

import torch

OPSET = 17


def trace_to_onnx(module, args, path: Path, inputs, outputs, dynamic, opset: int = OPSET) -> Path:
    """Write ``module`` traced on ``args`` to ``path`` (float32 weights inlined)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with torch.no_grad():
        torch.onnx.export(
            module.eval(),
            args,
            str(path),
            input_names=list(inputs),
            output_names=list(outputs),
            dynamic_axes=dynamic,
            opset_version=opset,
            dynamo=False,
        )
    return path
