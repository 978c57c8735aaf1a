"""Summarise py-spy collapsed stacks: ``python -m bench.profile_top FILE [N]``.

Prints the functions with the most samples anywhere on the stack (inclusive) and
at the top of the stack (self), as percentages of all samples.
"""

from __future__ import annotations

import sys
from collections import Counter


def main() -> None:
    path = sys.argv[1]
    limit = int(sys.argv[2]) if len(sys.argv) > 2 else 40
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    total = 0
    with open(path) as handle:
        for line in handle:
            stack, _, count = line.rstrip().rpartition(" ")
            if not count.isdigit():
                continue  # a frame name with a line break in it
            n = int(count)
            total += n
            frames = stack.split(";")
            for frame in set(frames):
                inclusive[frame] += n
            own[frames[-1]] += n
    print(f"{total} samples")
    print("--- inclusive")
    for frame, n in inclusive.most_common(limit):
        print(f"{100 * n / total:5.1f}%  {frame}")
    print("--- self")
    for frame, n in own.most_common(limit):
        print(f"{100 * n / total:5.1f}%  {frame}")


if __name__ == "__main__":
    main()
