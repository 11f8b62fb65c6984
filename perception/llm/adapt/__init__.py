"""On-device adaptation of the causal LMs: LoRA and Kronecker adapters, DEFT activation sparsity
with a sparse MLP, zeroth-order optimisers, neuron pruning and tensor-train compression.

Each module owns one method and works on a plain ``torch.nn.Module`` (a transformers Llama or a
toy model in the tests); which model, data and task are the caller's business.
"""
