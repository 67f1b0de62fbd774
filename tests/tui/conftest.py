import pytest
from helpers.history import build_history

from evallock.gitrepo import Project


@pytest.fixture
def anyio_backend() -> str:
    # Textual runs on asyncio; anyio's pytest plugin (installed with httpx)
    # runs the async tests.
    return "asyncio"


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> Project:
    """One stored history per test module; the UI only reads it."""
    return build_history(tmp_path_factory.mktemp("history") / "repo")
