"""A stand-in safety classifier for bench/faults.py: flags chats that contain a marker."""

MARKER = "FLAG-ME"


def flag_marked(history: list[tuple[str, str]]) -> bool:
    return any(MARKER in content for _role, content in history)
