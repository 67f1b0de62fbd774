"""Train the tiny example model that evallock's examples evaluate.

The model is a two-layer Llama with a character-level tokenizer, trained on
two-digit addition: the prompt ``23+45=`` is followed by ``68`` and the
end-of-sequence token. The script also writes the evaluation set,
``data/addition.jsonl``: 300 sums drawn with a fixed seed and held out of
training, so the example's score measures generalisation, not recall.

Training uses label smoothing, so the model stays accurate under greedy
decoding but leaves a few percent of probability on other tokens. That keeps
sampled outputs at temperature 0.8 different from the greedy ones for some
items, which the sampling tests need.

Run it from anywhere with a Python that has torch, transformers and
tokenizers::

    python examples/arith/train.py

It needs no network and writes ``model/`` and ``data/addition.jsonl`` next to
this file. Every random choice is seeded. The weights come out bitwise
identical on a rerun only with the same torch build and thread count, because
CPU matrix kernels split their sums by thread.

On a two-core x86 virtual machine with torch 2.13 (CPU), shared with other
jobs, the default 2000 steps took about 12 minutes. The trained model reaches
99 % greedy accuracy (297 of 300) on the held-out sums.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import time
from pathlib import Path

import torch
from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers, processors
from transformers import (
    GenerationConfig,
    LlamaConfig,
    LlamaForCausalLM,
    PreTrainedTokenizerFast,
)

HERE = Path(__file__).resolve().parent
SPECIAL_TOKENS = ["<pad>", "<s>", "</s>", "<unk>"]
PAD_ID, BOS_ID, EOS_ID = 0, 1, 2
CHARACTERS = list("0123456789+=")
EVAL_ITEM_COUNT = 300
# Maximum training sequence length, reached by <s> 99+99= 198 </s>.
SEQUENCE_LENGTH = 11

# A chat template that renders the user's message as the bare prompt, so a
# chat request and a plain one give the model the same tokens.
CHAT_TEMPLATE = (
    "{{ bos_token }}{% for message in messages %}"
    "{% if message['role'] == 'user' %}{{ message['content'] }}{% endif %}"
    "{% endfor %}"
)


def build_tokenizer() -> PreTrainedTokenizerFast:
    """Build a tokenizer with one token per character and a leading ``<s>``."""
    vocab = {token: index for index, token in enumerate(SPECIAL_TOKENS + CHARACTERS)}
    backend = Tokenizer(models.WordLevel(vocab=vocab, unk_token="<unk>"))
    backend.pre_tokenizer = pre_tokenizers.Split(Regex("."), behavior="isolated")
    backend.decoder = decoders.Fuse()
    backend.post_processor = processors.TemplateProcessing(
        single="<s> $A",
        pair="<s> $A $B",
        special_tokens=[("<s>", BOS_ID)],
    )
    backend.add_special_tokens(SPECIAL_TOKENS)
    return PreTrainedTokenizerFast(
        tokenizer_object=backend,
        pad_token="<pad>",
        bos_token="<s>",
        eos_token="</s>",
        unk_token="<unk>",
        chat_template=CHAT_TEMPLATE,
        model_max_length=64,
    )


def build_model(vocab_size: int, seed: int) -> LlamaForCausalLM:
    """Build a randomly initialised Llama with two layers of two 64-wide heads.

    A head size of 64 is chosen because vLLM's CPU attention backend rejects
    smaller ones such as 16.
    """
    torch.manual_seed(seed)
    config = LlamaConfig(
        vocab_size=vocab_size,
        hidden_size=128,
        intermediate_size=512,
        num_hidden_layers=2,
        num_attention_heads=2,
        num_key_value_heads=2,
        head_dim=64,
        max_position_embeddings=64,
        pad_token_id=PAD_ID,
        bos_token_id=BOS_ID,
        eos_token_id=EOS_ID,
        tie_word_embeddings=False,
    )
    return LlamaForCausalLM(config).to(torch.float32)


def split_pairs(seed: int) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """Split all 10,000 pairs of 0..99 into held-out evaluation and training pairs."""
    pairs = [(a, b) for a in range(100) for b in range(100)]
    evaluation = random.Random(seed).sample(pairs, EVAL_ITEM_COUNT)
    held_out = set(evaluation)
    training = [pair for pair in pairs if pair not in held_out]
    return evaluation, training


def write_dataset(pairs: list[tuple[int, int]], path: Path) -> None:
    """Write the evaluation pairs as JSON lines with ids ``add-0001`` onwards."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = []
    for number, (a, b) in enumerate(pairs, start=1):
        item = {"id": f"add-{number:04d}", "a": a, "b": b, "answer": str(a + b)}
        lines.append(json.dumps(item) + "\n")
    path.write_text("".join(lines), encoding="utf-8")


def encode_examples(
    tokenizer: PreTrainedTokenizerFast, pairs: list[tuple[int, int]]
) -> tuple[torch.Tensor, torch.Tensor]:
    """Encode pairs as right-padded token ids and labels that score only the answer.

    Labels are -100 (ignored by the loss) everywhere except the answer digits
    and the end-of-sequence token, so the model learns to continue a prompt,
    not to predict the random operands.
    """
    inputs = torch.full((len(pairs), SEQUENCE_LENGTH), PAD_ID, dtype=torch.long)
    labels = torch.full((len(pairs), SEQUENCE_LENGTH), -100, dtype=torch.long)
    for row, (a, b) in enumerate(pairs):
        prompt_ids = tokenizer(f"{a}+{b}=")["input_ids"]
        answer_ids = tokenizer(str(a + b), add_special_tokens=False)["input_ids"]
        ids = prompt_ids + answer_ids + [EOS_ID]
        inputs[row, : len(ids)] = torch.tensor(ids)
        # Position i predicts token i + 1, so the label of the last prompt
        # position is the first answer digit.
        for position in range(len(prompt_ids) - 1, len(ids) - 1):
            labels[row, position] = ids[position + 1]
    return inputs, labels


def learning_rate(step: int, steps: int, peak: float) -> float:
    """Return the learning rate: linear warm-up for 100 steps, then cosine decay."""
    warmup = 100
    if step < warmup:
        return peak * (step + 1) / warmup
    progress = (step - warmup) / max(1, steps - warmup)
    return peak * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * progress)))


@torch.no_grad()
def greedy_accuracy(
    model: LlamaForCausalLM,
    tokenizer: PreTrainedTokenizerFast,
    pairs: list[tuple[int, int]],
) -> float:
    """Return the share of pairs whose greedy continuation is the exact sum."""
    model.eval()
    correct = 0
    for a, b in pairs:
        ids = torch.tensor([tokenizer(f"{a}+{b}=")["input_ids"]])
        output = model.generate(
            ids,
            max_new_tokens=4,
            do_sample=False,
            eos_token_id=EOS_ID,
            pad_token_id=PAD_ID,
        )
        answer = tokenizer.decode(output[0, ids.shape[1] :], skip_special_tokens=True)
        correct += answer == str(a + b)
    model.train()
    return correct / len(pairs)


def train(
    model: LlamaForCausalLM,
    inputs: torch.Tensor,
    labels: torch.Tensor,
    args: argparse.Namespace,
) -> None:
    """Train with AdamW on random batches drawn from the training pairs."""
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.01)
    loss_function = torch.nn.CrossEntropyLoss(
        ignore_index=-100, label_smoothing=args.label_smoothing
    )
    generator = torch.Generator().manual_seed(args.seed)
    model.train()
    for step in range(args.steps):
        for group in optimizer.param_groups:
            group["lr"] = learning_rate(step, args.steps, args.lr)

        batch = torch.randint(0, len(inputs), (args.batch_size,), generator=generator)
        logits = model(input_ids=inputs[batch]).logits
        loss = loss_function(logits.flatten(0, 1), labels[batch].flatten())

        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if step % 200 == 0 or step == args.steps - 1:
            print(f"step {step:5d}  loss {loss.item():.4f}", flush=True)


def save(
    model: LlamaForCausalLM, tokenizer: PreTrainedTokenizerFast, folder: Path
) -> None:
    """Save float32 safetensors weights, tokenizer and a generation config.

    The generation config holds only token ids, so a checkpoint loaded with
    its generation config applied gets no sampling defaults from it.
    """
    folder.mkdir(parents=True, exist_ok=True)
    model.generation_config = GenerationConfig(
        bos_token_id=BOS_ID, eos_token_id=EOS_ID, pad_token_id=PAD_ID
    )
    model.save_pretrained(folder, safe_serialization=True)
    tokenizer.save_pretrained(folder)

    # transformers 5 records the class as "TokenizersBackend". Older releases
    # call the same tokenizer.json-backed class "PreTrainedTokenizerFast", and
    # transformers 5.19 loads that name too.
    config_path = folder / "tokenizer_config.json"
    tokenizer_config = json.loads(config_path.read_text(encoding="utf-8"))
    tokenizer_config["tokenizer_class"] = "PreTrainedTokenizerFast"
    config_path.write_text(json.dumps(tokenizer_config, indent=2) + "\n")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=2000, help="optimizer steps")
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--lr", type=float, default=1e-3, help="peak learning rate")
    parser.add_argument("--label-smoothing", type=float, default=0.15)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--output", type=Path, default=HERE / "model", help="model folder to write"
    )
    parser.add_argument(
        "--dataset",
        type=Path,
        default=HERE / "data" / "addition.jsonl",
        help="evaluation set to write",
    )
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    random.seed(args.seed)
    torch.manual_seed(args.seed)
    torch.use_deterministic_algorithms(True)

    evaluation, training = split_pairs(args.seed)
    write_dataset(evaluation, args.dataset)
    tokenizer = build_tokenizer()
    model = build_model(len(tokenizer), args.seed)
    parameter_count = sum(parameter.numel() for parameter in model.parameters())
    print(f"{parameter_count} parameters, {len(training)} training pairs", flush=True)

    inputs, labels = encode_examples(tokenizer, training)
    started = time.perf_counter()
    train(model, inputs, labels, args)
    elapsed = time.perf_counter() - started
    accuracy = greedy_accuracy(model, tokenizer, evaluation)
    print(f"trained in {elapsed:.0f} s, held-out greedy accuracy {accuracy:.3f}")
    save(model, tokenizer, args.output)


if __name__ == "__main__":
    main()
