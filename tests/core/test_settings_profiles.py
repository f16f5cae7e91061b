"""Profiles in the settings file: each overrides the shared keys, mistakes name the line."""

from __future__ import annotations

import yaml

from gme_tui.settings import load_settings, update_settings

FILE = """\
theme: gme-dark
endpoint: https://gme.tencentcloudapi.com
profile: prod
profiles:
  prod:
    default_biz_id: 3400352518
    region: ap-guangzhou
    confirm_start: true
  staging:
    endpoint: http://127.0.0.1:8765
    relaxed_user_ids: true
    language: en-US
    theme: gme-light
"""


def test_each_profile_overrides_only_what_it_sets(tmp_path):
    path = tmp_path / "settings.yaml"
    path.write_text(FILE)
    settings, warnings = load_settings(path)
    assert warnings == []
    assert settings.profile == "prod"
    prod = settings.for_profile("prod")
    assert (prod.default_biz_id, prod.region, prod.endpoint, prod.theme) == (
        3400352518,
        "ap-guangzhou",
        "https://gme.tencentcloudapi.com",
        "gme-dark",
    )
    staging = settings.for_profile("staging")
    assert (staging.endpoint, staging.relaxed_user_ids, staging.language, staging.theme) == (
        "http://127.0.0.1:8765",
        True,
        "en-US",
        "gme-light",
    )
    assert settings.for_profile("unknown") == settings


def test_mistakes_inside_a_profile_name_the_key_and_line(tmp_path):
    path = tmp_path / "settings.yaml"
    path.write_text(
        "profiles:\n  prod:\n    region: Guangzhou!\n    colour: red\n  'bad name':\n"
        "    theme: x\n  ok: 5\nlanguage: fr\n"
    )
    settings, warnings = load_settings(path)
    text = "\n".join(warnings)
    assert f"{path}:3: profiles.prod.region must be a region name" in text
    assert f"{path}:4: profiles.prod.unknown key 'colour'" in text
    assert f"{path}:5: profile name 'bad name'" in text
    assert f"{path}:7: profile ok must be a mapping" in text
    assert f"{path}:8: language must be zh-CN or en-US" in text
    assert settings.for_profile("prod").region is None  # fell back to the default


def test_updating_a_profile_keeps_the_others(tmp_path):
    path = tmp_path / "settings.yaml"
    path.write_text(FILE)
    update_settings(path, profile="staging", default_biz_id="1400089356")
    update_settings(path, theme="gme-high-contrast")
    data = yaml.safe_load(path.read_text())
    assert data["profiles"]["staging"]["default_biz_id"] == 1400089356
    assert data["profiles"]["prod"]["region"] == "ap-guangzhou"
    assert data["theme"] == "gme-high-contrast"
    settings, warnings = load_settings(path)
    assert warnings == []
    assert settings.for_profile("staging").default_biz_id == 1400089356


def test_a_bad_endpoint_in_a_profile_uses_the_field_rule(tmp_path):
    path = tmp_path / "settings.yaml"
    path.write_text("profiles:\n  p:\n    endpoint: ftp://x\n")
    _settings, warnings = load_settings(path)
    assert "profiles.p.endpoint must start with https:// or http://" in warnings[0]
