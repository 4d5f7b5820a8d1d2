"""What both cloud servers read the same way: :class:`one_cloudkit.config.CloudConfig` (§1.3).

Each front-end's own keys are tested in its ``tests/test_units.py``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from one_cloudkit.config import CloudConfig, ConfigError
from one_econe.config import EconeConfig
from one_occi.config import OcciConfig

each_server = pytest.mark.parametrize(
    "config_cls", [EconeConfig, OcciConfig], ids=["econe", "occi"]
)


@each_server
def test_environment_and_shared_keys(config_cls: type[CloudConfig], tmp_path: Path) -> None:
    cfg = config_cls.from_text(
        "DATABASE=d\nIMAGE_DIR=i\nSSL_SERVER=ssl.example.com\nIMAGE_OWNERSHIP=no\n",
        tmp_path,
        env={"ONE_XMLRPC": "http://env:2/RPC2"},
    )
    assert cfg.one_xmlrpc == "http://env:2/RPC2"  # ONE_XMLRPC of the environment (§7 #3)
    assert (cfg.database, cfg.image_dir, cfg.ssl_server) == ("d", "i", "ssl.example.com")
    assert cfg.image_ownership is False
    assert (cfg.user, cfg.server, cfg.port, cfg.max_upload) == ("oneadmin", "localhost", 4567, None)


@each_server
@pytest.mark.parametrize(
    ("text", "message"),
    [("IMAGE_DIR=i\n", "DB not defined"), ("DATABASE=d\n", "IMAGE_DIR not defined")],
)
def test_required_keys(
    config_cls: type[CloudConfig], text: str, message: str, tmp_path: Path
) -> None:
    with pytest.raises(ConfigError, match=message):
        config_cls.from_text(text, tmp_path, env={})
