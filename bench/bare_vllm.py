"""The reference for the `run` benchmark: one vllm.LLM call and nothing else.

It reads a job that evallock built (model folder, engine arguments, sampling
settings, rendered prompts with their per-item seeds) and makes the same
calls evallock's worker makes, without verification, scoring or storage.
Run it through bench/bare_cold.sh, which gives it the worker's environment.
"""

import json
import sys

import vllm


def main(job_path: str) -> None:
    with open(job_path, encoding="utf-8") as stream:
        job = json.load(stream)
    engine = {
        **job["engine"],
        "enable_prefix_caching": False,
        "generation_config": "vllm",
        "disable_log_stats": False,
    }
    llm = vllm.LLM(model=job["model"], **engine)
    params = [
        vllm.SamplingParams(**job["sampling"], seed=request["seed"])
        for request in job["requests"]
    ]
    prompts = [request["prompt"] for request in job["requests"]]
    outputs = llm.generate(prompts, params, use_tqdm=False)
    print(sum(1 for output in outputs if output.outputs), "outputs")


if __name__ == "__main__":
    main(sys.argv[1])
