"""Edge export: target profiles, checked ONNX graphs with manifests, TensorRT build plans."""
