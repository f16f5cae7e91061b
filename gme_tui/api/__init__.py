"""The GME recording service: fields, actions, signing, client, errors.

Nothing here touches the disk or the screen, so the command line, the app and
the emulator can all stand on it.
"""
