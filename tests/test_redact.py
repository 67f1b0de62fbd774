from evallock.redact import REDACTED, recorded_environment, redact_environment


def test_redact_secret_names() -> None:
    env = {
        "HF_TOKEN": "hf_abc",
        "OPENAI_API_KEY": "sk-1",
        "AWS_SECRET_ACCESS_KEY": "aws",
        "MY_SERVICE_TOKEN": "t",
        "DB_PASSWORD": "p",
        "PATH": "/usr/bin",
    }
    redacted = redact_environment(env)
    for name in (
        "HF_TOKEN",
        "OPENAI_API_KEY",
        "AWS_SECRET_ACCESS_KEY",
        "MY_SERVICE_TOKEN",
        "DB_PASSWORD",
    ):
        assert redacted[name] == REDACTED
    assert redacted["PATH"] == "/usr/bin"


def test_redact_url_credentials() -> None:
    env = {"HF_ENDPOINT": "https://user:hunter2@mirror.example/hf"}
    assert redact_environment(env)["HF_ENDPOINT"] == (
        f"https://{REDACTED}@mirror.example/hf"
    )


def test_redact_keeps_tokenizers_setting() -> None:
    assert redact_environment({"TOKENIZERS_PARALLELISM": "false"}) == {
        "TOKENIZERS_PARALLELISM": "false"
    }


def test_recorded_environment_keeps_relevant_only() -> None:
    env = {"VLLM_CPU_KVCACHE_SPACE": "1", "HOME": "/root", "HF_TOKEN": "x"}
    assert recorded_environment(env) == {
        "HF_TOKEN": REDACTED,
        "VLLM_CPU_KVCACHE_SPACE": "1",
    }
