"""Edge export: target profiles, checked ONNX graphs with parity and manifests, int8 for
onnxruntime, and TensorRT engines (built where TensorRT imports; otherwise the trtexec plan)."""
