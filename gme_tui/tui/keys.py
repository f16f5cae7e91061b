"""Every binding of the console by its id: the group it belongs to and one sentence of
what it does. The help screen reads this; a new binding needs its `Binding` line and
one entry here."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from textual.binding import Binding
    from textual.dom import DOMNode

FORM, RECORDING, HISTORY, APP = "Form", "Recording", "History", "App"
GROUPS = (FORM, RECORDING, HISTORY, APP)

#: binding id -> (group, what the key does)
KEYS: dict[str, tuple[str, str]] = {
    "main.send": (FORM, "Check the form and send StartRecord (after a confirmation)."),
    "form.clear_list": (FORM, "Empty the user ID list that has the focus."),
    "form.undo": (FORM, "Undo the last change to the field that has the focus."),
    "main.describe_task": (RECORDING, "DescribeTaskInfo: the task running in the form's (or selected) room."),
    "main.stop": (RECORDING, "StopRecord on the current task, after a confirmation naming where."),
    "main.describe_record": (RECORDING, "DescribeRecordInfo: the current task's files and their status."),
    "main.modify": (RECORDING, "ModifyRecordInfo: change the current task's mode and lists."),
    "main.copy": (RECORDING, "Copy the TaskId, RequestId, a file name, the raw answer or a command line."),
    "main.raw_response": (RECORDING, "The raw answer as JSON."),
    "main.raw_request": (RECORDING, "The request as it was sent (signature redacted)."),
    "main.recordings": (RECORDING, "Every recording of this endpoint, followed to its files."),
    "main.batch": (RECORDING, "Start a batch of rooms from a file or pasted: checked, confirmed, followed."),
    "main.filter_history": (HISTORY, "Filter the history by room, action, outcome or TaskId."),
    "history.load": (HISTORY, "Load the selected row's request into the form."),
    "history.filter": (HISTORY, "Go to the filter box."),
    "history.all": (HISTORY, "Show every endpoint's rows, or only this endpoint's."),
    "history.clear_filter": (HISTORY, "Empty the filter."),
    "history.rows_clear_filter": (HISTORY, "Empty the filter from the rows."),
    "history.to_rows": (HISTORY, "From the filter box into the rows it found."),
    "main.maximize": (APP, "The focused panel fills the screen; again (or Escape) gives the room back."),
    "main.credentials": (APP, "This profile's credentials: store, replace, delete, check."),
    "main.switch_profile": (APP, "Switch to another profile (its settings and credentials)."),
    "app.help": (APP, "This help (? opens it where no text field has the focus)."),
    "app.quit": (APP, "Quit gme-tui."),
    "app.palette": (APP, "The command palette: every action that fits now, by name."),
    "recordings.stop": (RECORDING, "Stop the selected recording, after a confirmation."),
    "recordings.mark": (RECORDING, "Mark the selected recording (for Stop marked)."),
    "recordings.stop_marked": (RECORDING, "Stop every marked recording, after one confirmation."),
    "recordings.describe": (RECORDING, "DescribeRecordInfo on the selected recording."),
    "recordings.modify": (RECORDING, "Modify the selected recording's mode and lists."),
    "recordings.copy_task_id": (RECORDING, "Copy the selected recording's TaskId."),
    "recordings.toggle_all": (RECORDING, "Show every endpoint's recordings, or only this one's."),
    "recordings.back": (APP, "Back to the main screen."),
    "batch.start": (RECORDING, "Start every room of the checked batch, after a confirmation naming where."),
    "batch.stop": (RECORDING, "Stop the run: no more rooms are sent; the rooms sent are kept."),
    "batch.stop_all": (
        RECORDING,
        "Stop every recording this batch started, after a confirmation naming where.",
    ),
    "batch.resume": (
        RECORDING,
        "Resume the batch: only its rooms not ok yet; an unknown one is looked up first.",
    ),
    "batch.recordings": (RECORDING, "The recordings view: the batch's recordings among them."),
    "batch.back": (APP, "Back to the main screen; a run goes on."),
    "confirm.yes": (APP, "Confirm: send it."),
    "confirm.no": (APP, "Go back; nothing is sent."),
    "confirm.bytes": (APP, "Show the exact bytes that are signed and sent, or the body pretty-printed."),
    "raw.close": (APP, "Close."),
    "copy.close": (APP, "Close; nothing is copied."),
    "profiles.pick": (APP, "Switch to the highlighted profile."),
    "profiles.close": (APP, "Go back; the profile stays."),
    "credentials.save": (APP, "Store the credentials in the OS keyring."),
    "credentials.delete": (APP, "Delete this profile's credentials from the keyring."),
    "credentials.check": (APP, "Check the credentials with a harmless request."),
    "credentials.close": (APP, "Go back."),
    "modify.send": (APP, "Review the change, then send it."),
    "modify.back": (APP, "Go back; nothing is sent."),
    "help.close": (APP, "Close this help."),
}


def key_in_force(nodes: Iterable[DOMNode], binding_id: str) -> str:
    """The key bound now to `binding_id` on the first of `nodes` that has it (after the
    settings' keymap), as the key bar shows it."""
    for node in nodes:
        for key, binding in node._bindings:
            if binding.id == binding_id:
                return " / ".join(keys_in_force(node, key, binding))
    return "no key"


def keys_in_force(node: DOMNode, key: str, binding: Binding) -> list[str]:
    """What the key bar shows for `binding` (bound to `key` in `node`'s class): the keymap's
    keys where it remaps the binding's id (Textual applies it only as a key is pressed)."""
    from textual.binding import Binding

    app = node.app
    remapped = app._keymap.get(binding.id) if binding.id else None
    keys = remapped.split(",") if remapped else [key]
    return [app.get_key_display(Binding(k.strip(), binding.action)) for k in keys]


# --- the settings' keymap, checked ---------------------------------------------------

#: id prefixes whose bindings are in force at the same time (the screen, the app and the
#: widgets of one focus chain); any other prefix is a screen's, in force with the app's only
TOGETHER: tuple[frozenset[str], ...] = (
    frozenset({"app", "main", "form"}),
    frozenset({"app", "main", "history"}),
    frozenset({"app", "modify", "form"}),
)
#: keys Textual acts on wherever the focus is, which no binding may take over
RESERVED = {"tab": "moves the focus", "shift+tab": "moves the focus back", "ctrl+c": "copies"}


def default_keys() -> dict[str, list[str]]:
    """Every binding id of the console and its keys as declared, read from the `BINDINGS` of
    every class in `gme_tui.tui` (importing each module: only a keymap needs this)."""
    import importlib
    import inspect
    import pkgutil

    from textual.binding import Binding

    from .. import tui

    keys: dict[str, list[str]] = {}
    names = [tui.__name__] + [m.name for m in pkgutil.walk_packages(tui.__path__, tui.__name__ + ".")]
    for name in names:
        module = importlib.import_module(name)
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if cls.__module__ != name:
                continue
            for binding in vars(cls).get("BINDINGS", ()):
                if isinstance(binding, Binding) and binding.id:
                    own = keys.setdefault(binding.id, [])
                    own += [k.strip() for k in binding.key.split(",") if k.strip() not in own]
    return keys


def _chains(binding_id: str) -> list[frozenset[str]]:
    prefix = binding_id.split(".")[0]
    return [chain for chain in TOGETHER if prefix in chain] or [frozenset({"app", prefix})]


def checked_keymap(
    keymap: dict[str, tuple[str, int]], where: object, defaults: dict[str, list[str]] | None = None
) -> tuple[dict[str, str], list[str]]:
    """The keymap to apply, and a warning naming the line of each entry left out: an id no
    binding has, or a key that another binding in force at the same time already has (or
    that Textual keeps). Of two entries that take one key, the later line is left out, and
    an entry left out gives its binding back its default key, which is checked in turn."""
    import difflib

    defaults = default_keys() if defaults is None else defaults
    warnings: list[tuple[int, str]] = []
    kept: dict[str, tuple[str, int]] = {}
    for binding_id, (keys, line) in keymap.items():
        if binding_id in defaults:
            kept[binding_id] = (keys, line)
            continue
        close = difflib.get_close_matches(binding_id, list(defaults), n=1)
        hint = f" (did you mean {close[0]}?)" if close else ""
        warnings.append(
            (line, f"{where}:{line}: keymap: no binding has the id {binding_id}{hint}; it is ignored")
        )
    while (clash := _clash(kept, defaults)) is not None:
        binding_id, key, other = clash
        line = kept.pop(binding_id)[1]
        taken = f"already belongs to {other}" if other in defaults else f"is Textual's own ({RESERVED[key]})"
        warnings.append(
            (
                line,
                f"{where}:{line}: keymap.{binding_id}: {key} {taken}; "
                f"{binding_id} keeps {','.join(defaults[binding_id])}",
            )
        )
    return {binding_id: keys for binding_id, (keys, _line) in kept.items()}, [
        text for _line, text in sorted(warnings)
    ]


def _clash(kept: dict[str, tuple[str, int]], defaults: dict[str, list[str]]) -> tuple[str, str, str] | None:
    """The latest entry whose new key another binding in force with it has: (its id, the key,
    the other's id or the reserved key)."""
    now = {i: kept[i][0].split(",") if i in kept else keys for i, keys in defaults.items()}
    for binding_id in sorted(kept, key=lambda i: kept[i][1], reverse=True):
        for key in now[binding_id]:
            if key in defaults[binding_id]:
                continue  # a key it had anyway, beside others: as declared
            if key in RESERVED:
                return binding_id, key, key
            for chain in _chains(binding_id):
                for other, keys in now.items():
                    if other != binding_id and other.split(".")[0] in chain and key in keys:
                        return binding_id, key, other
    return None
