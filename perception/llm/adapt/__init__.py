"""On-device adaptation of the causal LMs: LoRA and Kronecker adapters, DEFT activation sparsity
with a sparse MLP, zeroth-order optimisers, neuron pruning, tensor-train compression, and GER
fine-tuning (a LoRA on the correcting LLM, trained on Whisper N-best → reference pairs).

Each method module owns one method and works on a plain ``torch.nn.Module`` (a transformers Llama
or a toy model in the tests); which model, data and task are the caller's business. Two modules
do own data: ``text`` (plain-text batches and losses for the experiments) and ``ger`` (its
training pairs, dev check and adapter card).
"""
