"""YAML themes: the bundled three are sound and readable, user themes add or replace, broken files are skipped."""

from __future__ import annotations

import itertools
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from textual.app import App, ComposeResult
from textual.color import Color, rgb_to_lab
from textual.design import ColorSystem
from textual.widgets import Button, DataTable, Footer, Header, Input, Static

import gme_tui
from gme_tui.paths import CONFIG_ENV
from gme_tui.settings import MAX_WARNINGS
from gme_tui.tui import themes as themes_mod
from gme_tui.tui.themes import (
    NAME_MAX,
    bundled_themes_dir,
    load_all_themes,
    load_theme_file,
    load_themes,
    simple_mapping,
    user_themes_dir,
)

ROOT = Path(__file__).resolve().parents[2]
BUNDLED = ("gme-dark", "gme-light", "gme-high-contrast")
STATUS = ("warning", "error", "success")


@pytest.fixture
def config(tmp_path, monkeypatch) -> Path:
    """A private config folder (GME_TUI_CONFIG) with an empty themes/ in it."""
    folder = tmp_path / "config"
    (folder / "themes").mkdir(parents=True)
    monkeypatch.setenv(CONFIG_ENV, str(folder / "settings.yaml"))
    return folder


def theme_file(folder: Path, filename: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / filename
    path.write_text(text, encoding="utf-8")
    return path


def by_name(themes):
    return {theme.name: theme for theme in themes}


# --- colour arithmetic for the checks on the bundled themes ---------------------------


def contrast(a: str, b: str) -> float:
    """WCAG 2 contrast ratio."""

    def luminance(colour: Color) -> float:
        def channel(value: int) -> float:
            v = value / 255
            return v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4

        return 0.2126 * channel(colour.r) + 0.7152 * channel(colour.g) + 0.0722 * channel(colour.b)

    hi, lo = sorted((luminance(Color.parse(a)), luminance(Color.parse(b))), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def delta_e(a: Color, b: Color) -> float:
    """CIE76 distance: about 2 is just noticeable, over 20 clearly different."""
    return sum((x - y) ** 2 for x, y in zip(rgb_to_lab(a), rgb_to_lab(b), strict=True)) ** 0.5


# Machado et al. 2009, severity 1.0, on linear RGB.
CVD = {
    "deuteranopia": (
        (0.367322, 0.860646, -0.227968),
        (0.280085, 0.672501, 0.047413),
        (-0.011820, 0.042940, 0.968881),
    ),
    "protanopia": (
        (0.152286, 1.052583, -0.204868),
        (0.114503, 0.786281, 0.099216),
        (-0.003882, -0.048116, 1.051998),
    ),
    "tritanopia": (
        (1.255528, -0.076749, -0.178779),
        (-0.078411, 0.930809, 0.147602),
        (0.004733, 0.691367, 0.303900),
    ),
}


def simulate(colour: Color, matrix) -> Color:
    def linear(v: int) -> float:
        v /= 255
        return v / 12.92 if v <= 0.04045 else ((v + 0.055) / 1.055) ** 2.4

    def gamma(v: float) -> int:
        v = min(max(v, 0.0), 1.0)
        return round(255 * (12.92 * v if v <= 0.0031308 else 1.055 * v ** (1 / 2.4) - 0.055))

    rgb = [linear(colour.r), linear(colour.g), linear(colour.b)]
    return Color(*(gamma(sum(m * c for m, c in zip(row, rgb, strict=True))) for row in matrix))


# --- the bundled themes ---------------------------------------------------------------


def test_the_bundled_folder_is_the_repository_themes_folder_in_a_source_checkout():
    assert bundled_themes_dir() == ROOT / "themes"
    assert {p.name for p in bundled_themes_dir().glob("*.yaml")} == {f"{n}.yaml" for n in BUNDLED}


def test_the_installed_layout_is_preferred(tmp_path, monkeypatch):
    package = tmp_path / "site-packages" / "gme_tui"
    (package / "themes").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    monkeypatch.setattr(gme_tui, "__file__", str(package / "__init__.py"))
    assert bundled_themes_dir() == package / "themes"


def test_the_three_bundled_themes_load_without_warnings():
    themes, warnings = load_themes([bundled_themes_dir()])
    assert warnings == []
    assert sorted(t.name for t in themes) == sorted(BUNDLED)


def test_the_bundled_themes_are_distinct():
    themes = by_name(load_themes([bundled_themes_dir()])[0])
    palettes = {
        name: (t.dark, t.background, t.foreground, t.primary, t.accent, t.warning, t.error, t.success)
        for name, t in themes.items()
    }
    assert len(set(palettes.values())) == 3
    assert themes["gme-light"].dark is False and themes["gme-dark"].dark and themes["gme-high-contrast"].dark


@pytest.mark.parametrize("name", BUNDLED)
def test_each_bundled_theme_sets_every_colour_and_only_variables_textual_knows(name):
    theme = load_theme_file(bundled_themes_dir() / f"{name}.yaml")
    for key in themes_mod.COLOUR_KEYS:
        assert getattr(theme, key), key
    known = set(ColorSystem(primary="#808080").generate())
    assert set(theme.variables) <= known  # a typo would silently do nothing


@pytest.mark.parametrize("name", BUNDLED)
def test_text_and_status_colours_are_readable_on_every_layer(name):
    theme = load_theme_file(bundled_themes_dir() / f"{name}.yaml")
    minimum = 7.0 if name == "gme-high-contrast" else 4.5
    for layer in (theme.background, theme.surface):
        assert contrast(theme.foreground, layer) >= 12.0
        for key in (*STATUS, "primary", "accent"):
            assert contrast(getattr(theme, key), layer) >= minimum, (key, layer)
    for key in (*STATUS, "primary", "accent"):
        assert contrast(getattr(theme, key), theme.panel) >= 4.5, (key, "panel")


@pytest.mark.parametrize("name", BUNDLED)
def test_warning_error_and_success_stay_apart_also_for_colour_blind_eyes(name):
    theme = load_theme_file(bundled_themes_dir() / f"{name}.yaml")
    colours = {key: Color.parse(getattr(theme, key)) for key in STATUS}
    for a, b in itertools.combinations(STATUS, 2):
        assert delta_e(colours[a], colours[b]) >= 40, (a, b)
        for kind, matrix in CVD.items():
            assert delta_e(simulate(colours[a], matrix), simulate(colours[b], matrix)) >= 15, (a, b, kind)


def test_the_high_contrast_theme_is_white_on_black_with_pure_yellow():
    theme = load_theme_file(bundled_themes_dir() / "gme-high-contrast.yaml")
    assert (Color.parse(theme.background), Color.parse(theme.foreground), Color.parse(theme.accent)) == (
        Color(0, 0, 0),
        Color(255, 255, 255),
        Color(255, 255, 0),
    )
    assert Color.parse(theme.variables["border"]) == Color(255, 255, 0)
    assert contrast(theme.foreground, theme.background) == pytest.approx(21.0)


def test_the_readme_example_theme_loads(tmp_path):
    readme = (ROOT / "themes" / "README.md").read_text()
    example = re.search(r"```yaml\n(name: ocean.*?)```", readme, re.S)
    assert example
    theme = load_theme_file(theme_file(tmp_path, "ocean.yaml", example.group(1)))
    assert theme.name == "ocean" and theme.variables["footer-key-foreground"] == "#FECA57"


# --- user themes ------------------------------------------------------------------------


def test_without_user_themes_load_all_gives_the_bundled_ones(config):
    (config / "themes").rmdir()
    themes, warnings = load_all_themes()
    assert warnings == []
    assert [t.name for t in themes] == sorted(BUNDLED)


def test_a_user_theme_is_added_after_the_bundled_ones(config):
    assert user_themes_dir() == config / "themes"
    theme_file(config / "themes", "ocean.yml", 'name: ocean\nprimary: "#2E86DE"\ndark: false\n')
    themes, warnings = load_all_themes()
    assert warnings == []
    assert [t.name for t in themes] == [*sorted(BUNDLED), "ocean"]
    ocean = by_name(themes)["ocean"]
    assert (ocean.primary, ocean.dark, ocean.variables) == ("#2E86DE", False, {})


def test_a_user_theme_replaces_a_bundled_one_of_the_same_name(config):
    theme_file(config / "themes", "mine.yaml", 'name: gme-dark\nprimary: "#FF00FF"\nbackground: black\n')
    themes, warnings = load_all_themes()
    assert warnings == []
    assert len(themes) == 3
    assert (by_name(themes)["gme-dark"].primary, by_name(themes)["gme-dark"].background) == (
        "#FF00FF",
        "black",
    )


def test_a_later_folder_wins_and_a_clash_inside_one_folder_is_reported(tmp_path):
    first, second = tmp_path / "one", tmp_path / "two"
    theme_file(first, "x.yaml", "name: x\nprimary: red\n")
    theme_file(second, "a.yaml", "name: x\nprimary: green\n")
    theme_file(second, "b.yaml", "name: x\nprimary: blue\n")
    themes, warnings = load_themes([first, second])
    assert [(t.name, t.primary) for t in themes] == [("x", "blue")]
    assert warnings == [f"{second / 'b.yaml'}: theme 'x' is also defined in a.yaml; this file wins"]


def test_only_yaml_files_are_read_and_hidden_ones_are_not(tmp_path):
    theme_file(tmp_path, "a.YAML", "name: a\nprimary: red\n")
    theme_file(tmp_path, "b.yml", "name: b\nprimary: red\n")
    theme_file(tmp_path, "notes.txt", "not a theme")
    theme_file(tmp_path, ".#c.yaml", "half-saved by an editor: [")
    themes, warnings = load_themes([tmp_path])
    assert [t.name for t in themes] == ["a", "b"] and warnings == []


def test_a_themes_path_that_is_a_file_is_a_warning(tmp_path):
    not_a_folder = theme_file(tmp_path, "themes", "oops")
    themes, warnings = load_themes([not_a_folder])
    assert themes == [] and len(warnings) == 1
    assert warnings[0].startswith(f"{not_a_folder}: cannot list the themes folder")


# --- broken files: a warning naming the file (and line), the rest still load ---------

BROKEN = {
    "bad YAML": ("name: x\nprimary: [red\n", 3, "not valid YAML"),
    "not a mapping": ("- red\n- blue\n", None, "a theme must be a mapping"),
    "empty file": ("", None, "a theme must be a mapping"),
    "missing name": ('primary: "#ff0000"\n', None, "name is required"),
    "bad name": ("name: my theme\nprimary: red\n", 1, "name must be letters, digits"),
    "name a number": ("name: 42\nprimary: red\n", 1, "name must be letters"),
    "missing primary": ("name: x\naccent: red\n", None, "primary is required"),
    "colour Textual cannot parse": (
        "name: x\nprimary: red\nerror: '#12345z'\n",
        3,
        "error is not a colour Textual can read",
    ),
    "colour word unknown": ("name: x\nprimary: reddish\n", 2, "primary is not a colour Textual can read"),
    "colour not text": ("name: x\nprimary: 255\n", 2, "primary must be a colour"),
    "unquoted #": (
        "name: x\nprimary: #ff0000\n",
        2,
        'quote colours that start with #, as in primary: "#ff0000"',
    ),
    "unknown key": (
        "name: x\nprimary: red\nbackgroud: black\n",
        3,
        "unknown key 'backgroud' (did you mean background?)",
    ),
    "dark not a bool": ("name: x\nprimary: red\ndark: sometimes\n", 3, "dark must be true or false"),
    "variables not a mapping": ("name: x\nprimary: red\nvariables: [a]\n", 3, "variables must be a mapping"),
    "variable with $": ("name: x\nprimary: red\nvariables:\n  $border: red\n", 4, "write it without the $"),
    "variable empty": ("name: x\nprimary: red\nvariables:\n  border: #fff\n", 4, "border is empty"),
    "variable refers to another": (
        "name: x\nprimary: red\nvariables:\n  border: $accent\n",
        4,
        "cannot refer to another variable",
    ),
    "colour variable given a style": (
        "name: x\nprimary: red\nvariables:\n\n  border: reverse\n",
        5,
        "border must be a colour",
    ),
    "colour variable bad colour": (
        "name: x\nprimary: red\nvariables:\n  border: '#12345z 50%'\n",
        4,
        "border must be a colour",
    ),
    "auto on a background": (
        "name: x\nprimary: red\nvariables:\n  footer-background: auto 50%\n",
        4,
        "footer-background must be a colour",
    ),
    "style variable bad style": (
        "name: x\nprimary: red\nvariables:\n  block-cursor-text-style: shiny\n",
        4,
        "must be text styles",
    ),
    "variable not CSS": (
        "name: x\nprimary: red\nvariables:\n  my-var: '}{'\n",
        4,
        "my-var is not a CSS value",
    ),
    "variable a list": (
        "name: x\nprimary: red\nvariables:\n  my-var: [1]\n",
        4,
        "my-var must be a CSS value",
    ),
    "python tag": ("name: !!python/name:os.system\nprimary: red\n", 1, "not valid YAML"),
    "not UTF-8": (b"name: caf\xe9\nprimary: red\n", 1, "not UTF-8 text"),
}


@pytest.mark.parametrize("case", list(BROKEN))
def test_a_broken_file_is_skipped_with_a_warning_and_the_rest_load(tmp_path, case):
    text, line, words = BROKEN[case]
    folder = tmp_path / "themes"
    theme_file(folder, "a-good.yaml", "name: good-a\nprimary: red\n")
    broken = folder / "broken.yaml"
    broken.write_bytes(text if isinstance(text, bytes) else text.encode())
    theme_file(folder, "z-good.yaml", "name: good-z\nprimary: blue\n")
    themes, warnings = load_themes([folder])
    assert [t.name for t in themes] == ["good-a", "good-z"]
    assert len(warnings) == 1, warnings
    where = f"{broken}:{line}: " if line else f"{broken}: "
    assert warnings[0].startswith(where), warnings[0]
    assert words in warnings[0]
    assert warnings[0].endswith("; theme skipped")


def test_accepted_variable_values(tmp_path):
    path = theme_file(
        tmp_path,
        "v.yaml",
        "\n".join(
            [
                "name: v",
                "primary: red",
                "variables:",
                '  border: "#ff0000 50%"',
                "  border-blurred: rgb(10, 20, 30)",
                "  text: auto 80%",
                "  text-muted: '#cccccc'",
                "  link-background: initial",
                "  link-style-hover: bold not underline",
                "  block-cursor-text-style: none",
                "  my-app-width: 3",
                "",
            ]
        ),
    )
    theme = load_theme_file(path)
    assert theme.variables["my-app-width"] == "3"
    assert theme.variables["text"] == "auto 80%"


def test_a_broken_user_theme_does_not_cost_the_bundled_ones(config):
    theme_file(config / "themes", "gme-dark.yaml", "name: gme-dark\nprimary: nope\n")
    themes, warnings = load_all_themes()
    assert sorted(t.name for t in themes) == sorted(BUNDLED)
    assert by_name(themes)["gme-dark"].primary == "#4A9BF2"
    assert len(warnings) == 1 and "primary is not a colour" in warnings[0]


def test_missing_bundled_themes_are_reported(config, monkeypatch):
    monkeypatch.setattr(themes_mod, "bundled_themes_dir", lambda: config / "no-such-folder")
    themes, warnings = load_all_themes()
    assert themes == []
    assert "the bundled themes are missing" in warnings[0]


# --- on a real Textual app --------------------------------------------------------------


class Showcase(App[None]):
    """Widgets that use most of Textual's design variables, so a bad value would fail the CSS."""

    def compose(self) -> ComposeResult:
        yield Header()
        yield Input(value="1400000000", id="biz")
        yield Button("Start", variant="primary")
        yield Button("Stop", variant="error")
        yield Static("warning", classes="warn")
        yield DataTable()
        yield Footer()


@pytest.mark.parametrize("name", BUNDLED)
async def test_each_bundled_theme_registers_and_applies(name):
    themes, warnings = load_all_themes()
    app = Showcase()
    for theme in themes:
        app.register_theme(theme)
    async with app.run_test(size=(80, 24)) as pilot:
        app.theme = name
        await pilot.pause()
        assert app.theme == name
        assert app.current_theme.name == name
        wanted = Color.parse(by_name(themes)[name].background)
        assert app.screen.styles.background == wanted
        # Textual round-trips colours through HSL, so a channel may move by one.
        shown_error = Color.parse(app.get_css_variables()["error"])
        assert delta_e(shown_error, Color.parse(by_name(themes)[name].error)) < 1


async def test_switching_through_every_loaded_theme_keeps_the_app_running(config):
    theme_file(
        config / "themes",
        "ocean.yaml",
        'name: ocean\nprimary: "#2E86DE"\nvariables:\n  border: "#2E86DE 60%"\n  text: auto 90%\n',
    )
    themes, warnings = load_all_themes()
    assert warnings == []
    app = Showcase()
    for theme in themes:
        app.register_theme(theme)
    async with app.run_test(size=(80, 24)) as pilot:
        for theme in themes:
            app.theme = theme.name
            await pilot.pause()
            assert app.current_theme.name == theme.name
        assert app.is_running


# --- the wheel ------------------------------------------------------------------------------


def test_an_installed_wheel_finds_its_bundled_themes(tmp_path):
    """pyproject force-includes themes/ as gme_tui/themes; the loader must look there first."""
    build = subprocess.run(
        [sys.executable, "-m", "hatchling", "build", "-t", "wheel", "-d", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert build.returncode == 0, build.stderr
    (wheel,) = tmp_path.glob("gme_tui-*.whl")
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    code = (
        "import gme_tui.tui.themes as t\n"
        "themes, warnings = t.load_themes([t.bundled_themes_dir()])\n"
        "print(t.bundled_themes_dir()); print(sorted(x.name for x in themes), warnings)\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        env={"PYTHONPATH": str(site), "PATH": "", "HOME": str(tmp_path)},
    )
    assert run.returncode == 0, run.stderr
    folder, result = run.stdout.splitlines()
    assert folder == str(site / "gme_tui" / "themes")
    assert result == f"{sorted(BUNDLED)} []"


# --- hostile theme files (issue 9) ----------------------------------------------


def test_a_deep_theme_file_is_skipped_with_a_warning(tmp_path):
    (tmp_path / "deep.yaml").write_text("name: deep\nprimary: " + "[" * 100_000 + "\n")
    (tmp_path / "ok.yaml").write_text("name: ok\nprimary: red\n")
    os.mkfifo(tmp_path / "pipe.yaml")
    themes, warnings = load_themes([tmp_path])
    assert [t.name for t in themes] == ["ok"]
    assert any("deep.yaml:2: not valid YAML (nested deeper than" in w for w in warnings), warnings
    assert any("pipe.yaml: cannot read the theme file (it must be a regular file" in w for w in warnings)


def test_a_folder_of_broken_themes_is_told_in_a_bounded_number_of_lines(tmp_path):
    for n in range(30):
        (tmp_path / f"t{n:02}.yaml").write_text("primary: red\n")  # no name
    themes, warnings = load_themes([tmp_path])
    assert themes == [] and len(warnings) == MAX_WARNINGS + 1
    assert warnings[-1] == f"{tmp_path}: {30 - MAX_WARNINGS} more problems like these are not listed"


def test_a_theme_name_is_kept_short(tmp_path):
    (tmp_path / "long.yaml").write_text(f"name: {'n' * (NAME_MAX + 1)}\nprimary: red\n")
    (tmp_path / "ok.yaml").write_text(f"name: {'n' * NAME_MAX}\nprimary: red\n")
    themes, warnings = load_themes([tmp_path])
    assert [t.name for t in themes] == ["n" * NAME_MAX]
    assert len(warnings) == 1 and f"at most {NAME_MAX} characters" in warnings[0]


# --- the chosen theme read without YAML before the first frame --------------------------


@pytest.mark.parametrize("path", sorted(bundled_themes_dir().glob("*.yaml")), ids=lambda p: p.name)
def test_every_bundled_theme_is_read_without_yaml_as_yaml_reads_it(path):
    import yaml

    text = path.read_text()
    assert simple_mapping(text) == yaml.safe_load(text)


@pytest.mark.parametrize(
    "text",
    [
        "name: a\nprimary: #ff0000\n",  # a comment in YAML: the key is empty
        "name: a\ndark: yes\n",  # YAML 1.1 reads yes as true
        "name: a\nname: b\n",
        'name: a\nprimary: "a\\"b"\n',
        "name: a\nvariables:\n  x: 1\n",
        "name: a\x1cprimary: red\n",
        "---\nname: a\n",
        "name: 'it''s'\n",
    ],
)
def test_anything_yaml_might_read_otherwise_goes_to_yaml(text):
    assert simple_mapping(text) is None


def test_a_simple_file_with_comments_and_variables(tmp_path):
    text = '# mine\nname: mine\ndark: false # light\nprimary: "#112233"\nvariables:\n  footer-key-foreground: red\n'
    assert simple_mapping(text) == {
        "name": "mine",
        "dark": False,
        "primary": "#112233",
        "variables": {"footer-key-foreground": "red"},
    }
    path = tmp_path / "mine.yaml"
    path.write_text(text)
    assert load_theme_file(path).primary == "#112233"
