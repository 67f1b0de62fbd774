"""Names of the engine settings a worker reads back from vLLM after start-up.

Kept apart from the worker so that configuration checks can name these
settings without importing the worker module.
"""

# Resolved settings that can change outputs, read back from vllm.LLM's
# VllmConfig as (result key, VllmConfig attribute, attribute of that section).
# An empty section name reads the attribute from VllmConfig itself.
RESOLVED_ENGINE_FIELDS = (
    ("model", "model_config", "model"),
    ("tokenizer", "model_config", "tokenizer"),
    ("tokenizer_mode", "model_config", "tokenizer_mode"),
    ("revision", "model_config", "revision"),
    ("tokenizer_revision", "model_config", "tokenizer_revision"),
    ("dtype", "model_config", "dtype"),
    ("max_model_len", "model_config", "max_model_len"),
    ("seed", "model_config", "seed"),
    ("quantization", "model_config", "quantization"),
    ("enforce_eager", "model_config", "enforce_eager"),
    ("trust_remote_code", "model_config", "trust_remote_code"),
    ("model_impl", "model_config", "model_impl"),
    ("logprobs_mode", "model_config", "logprobs_mode"),
    ("disable_cascade_attn", "model_config", "disable_cascade_attn"),
    ("disable_sliding_window", "model_config", "disable_sliding_window"),
    ("generation_config", "model_config", "generation_config"),
    ("override_generation_config", "model_config", "override_generation_config"),
    ("hf_overrides", "model_config", "hf_overrides"),
    ("block_size", "cache_config", "block_size"),
    ("kv_cache_dtype", "cache_config", "cache_dtype"),
    ("enable_prefix_caching", "cache_config", "enable_prefix_caching"),
    ("gpu_memory_utilization", "cache_config", "gpu_memory_utilization"),
    ("kv_cache_memory_bytes", "cache_config", "kv_cache_memory_bytes"),
    ("num_gpu_blocks", "cache_config", "num_gpu_blocks"),
    ("max_num_seqs", "scheduler_config", "max_num_seqs"),
    ("max_num_batched_tokens", "scheduler_config", "max_num_batched_tokens"),
    ("enable_chunked_prefill", "scheduler_config", "enable_chunked_prefill"),
    ("async_scheduling", "scheduler_config", "async_scheduling"),
    ("scheduling_policy", "scheduler_config", "policy"),
    ("tensor_parallel_size", "parallel_config", "tensor_parallel_size"),
    ("pipeline_parallel_size", "parallel_config", "pipeline_parallel_size"),
    ("data_parallel_size", "parallel_config", "data_parallel_size"),
    (
        "distributed_executor_backend",
        "parallel_config",
        "distributed_executor_backend",
    ),
    ("compilation_mode", "compilation_config", "mode"),
    ("compilation_backend", "compilation_config", "backend"),
    ("cudagraph_mode", "compilation_config", "cudagraph_mode"),
    ("attention_backend", "attention_config", "backend"),
    ("optimization_level", "", "optimization_level"),
    ("performance_mode", "", "performance_mode"),
)
