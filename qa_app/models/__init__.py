"""The models' files and runtimes: hash-checked weights, the embedder, torch and ONNX Runtime, threads."""
