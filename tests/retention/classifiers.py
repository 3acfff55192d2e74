"""Stand-in safety classifiers that tests point settings.SAFETY_CLASSIFIER at."""

seen: list[list[tuple[str, str]]] = []


def flag_when_asked_about_weapons(history: list[tuple[str, str]]) -> bool:
    seen.append(history)
    return any("weapon" in content for _role, content in history)
