from importlib import metadata
from pathlib import Path

import pytest

from evallock.inputs import environment


def test_software_versions_match_package_metadata() -> None:
    table = environment.software()
    for key, names in environment.PACKAGES.items():
        expected = environment.NOT_INSTALLED
        for name in names:
            try:
                expected = metadata.version(name)
            except metadata.PackageNotFoundError:
                continue
            break
        assert table[key] == expected, key


def test_installed_versions_match_package_metadata() -> None:
    versions = environment.installed_versions()
    for name in ("xxhash", "tomli-w", "Jinja2", "GitPython"):
        expected = metadata.version(name)
        assert versions[environment._normalise(name)] == expected, name


def test_software_missing_package_not_installed() -> None:
    versions = environment.installed_versions()
    assert environment._version(("no-such-distribution-xyz",), versions) == (
        environment.NOT_INSTALLED
    )


def test_installed_versions_first_path_wins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    (first / "Demo_Pkg-2.0.dist-info").mkdir(parents=True)
    (second / "demo_pkg-1.0.dist-info").mkdir(parents=True)
    monkeypatch.setattr("sys.path", [str(first), str(second)])
    assert environment.installed_versions()["demo_pkg"] == "2.0"
