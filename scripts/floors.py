"""Print the lowest release pyproject.toml allows of each runtime dependency, one pip requirement
a line: ``httpx>=0.27,<1`` gives ``httpx==0.27.*``. Extras named on the command line add theirs.

    python scripts/floors.py pyproject.toml [extra ...]
"""

from __future__ import annotations

import re
import sys

if sys.version_info >= (3, 11):
    import tomllib
else:  # Python 3.10: the copy pip vendors
    from pip._vendor import tomli as tomllib

FLOOR = re.compile(r"^([A-Za-z0-9_.\-]+)(\[[^\]]*\])?\s*(?:[^,]*,)*?\s*>=\s*([0-9][0-9.]*)")


def floors(requirements: list[str]) -> list[str]:
    out = []
    for requirement in requirements:
        found = FLOOR.match(requirement)
        if found is None:
            raise SystemExit(f"no floor (>=) in {requirement!r}: every dependency declares its lowest version")
        name, extras, version = found.groups()
        out.append(f"{name}{extras or ''}=={version}.*")
    return out


def main(path: str, *extras: str) -> None:
    with open(path, "rb") as file:
        project = tomllib.load(file)["project"]
    requirements = list(project["dependencies"])
    for extra in extras:
        requirements += project["optional-dependencies"][extra]
    print("\n".join(dict.fromkeys(floors(requirements))))


if __name__ == "__main__":
    main(*sys.argv[1:])
