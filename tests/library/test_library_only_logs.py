"""A script using the library alone (no control plane, no OUTPUT_URL) says what
it falls back to once, not on every call."""

import logging
import os

from sedna.core.lifelong_learning import settings


def test_the_default_knowledge_base_folder_is_named_once(tmp_path, monkeypatch, caplog):
    monkeypatch.chdir(tmp_path)
    with caplog.at_level(logging.INFO, logger="sedna"):
        urls = {settings.output_url() for _ in range(5)}
    assert urls == {os.path.join(str(tmp_path), "sedna-kb")}
    said = [r.getMessage() for r in caplog.records if "OUTPUT_URL is not set" in r.getMessage()]
    assert said == [f"OUTPUT_URL is not set; the knowledge base goes to {tmp_path}/sedna-kb"]
    assert settings.output_url("/explicit/kb") == "/explicit/kb"  # an explicit folder wins, silently
