"""A ballot's draw, as the app runs it and as anyone checks it: Python's standard library only.

The order of the entries is a sort by SHA-256 over the seed, the public value and each
receipt; nothing else plays a part (not the time of entry, not who entered). In that order
each entry takes its first preference that still has room for all its members, else its
second, else its third; a group that fits none is skipped whole, never split, and the later
entries may take what it could not use. Entries that got nothing wait, in draw order.

Run as a script on a release's published JSON, it recomputes everything and says whether
the published outcome matches:

    python3 draw.py release.json
"""

import hashlib
import json
import sys

ANY_WINDOW = None  # a preference for "any session of this day"


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def receipt_of(salt: str, details: dict) -> str:
    """Return an entry's receipt: SHA-256 over its secret salt and its details as JSON.

    Without the salt, nobody can try NIKs against a published receipt.
    """
    return sha256_hex(salt + "\n" + json.dumps(details, sort_keys=True, ensure_ascii=False))


def entries_hash(entries: list[dict]) -> str:
    """Return the hash of the entry list fixed at the close: receipts, sizes, preferences."""
    fixed = sorted((entry["receipt"], entry["size"], entry["preferences"]) for entry in entries)
    return sha256_hex(json.dumps(fixed, separators=(",", ":")))


def draw_order(seed: str, public_value: str, receipts: list[str]) -> list[str]:
    """Return the receipts in draw order: by SHA-256 over seed, public value and receipt."""
    return sorted(receipts, key=lambda receipt: sha256_hex(f"{seed}\n{public_value}\n{receipt}"))


def allocate(order: list[str], entries: dict, places: dict) -> dict:
    """Give each entry, in draw order, its first preference with room for all its members.

    entries: {receipt: {"size": n, "preferences": [[day, window or None], ...],
    "withdrawn": bool}}; places: {"days": {day: free}, "windows": {day: [[window, free],
    ...] in start order}}. Returns {receipt: outcome}: {"result": "won", "preference": k,
    "day": day, "window": window}, {"result": "waiting", "position": n} or
    {"result": "withdrawn"}.
    """
    day_left = dict(places["days"])
    window_left = {}
    windows_of = {}
    for day, windows in places["windows"].items():
        windows_of[day] = [window for window, _free in windows]
        window_left.update({(day, window): free for window, free in windows})
    outcome = {}
    waiting = 0
    for receipt in order:
        entry = entries[receipt]
        if entry.get("withdrawn"):
            outcome[receipt] = {"result": "withdrawn"}
            continue
        size = entry["size"]
        won = None
        for rank, (day, window) in enumerate(entry["preferences"], start=1):
            if day_left.get(day, 0) < size:
                continue
            candidates = windows_of.get(day, []) if window is ANY_WINDOW else [window]
            room = next((w for w in candidates if window_left.get((day, w), 0) >= size), None)
            if room is not None:
                won = {"result": "won", "preference": rank, "day": day, "window": room}
                day_left[day] -= size
                window_left[(day, room)] -= size
                break
        if won is None:
            waiting += 1
            won = {"result": "waiting", "position": waiting}
        outcome[receipt] = won
    return outcome


def recompute(published: dict) -> dict:
    """Return the outcome a release's published draw gives, from its seed and its list."""
    entries = {entry["receipt"]: entry for entry in published["entries"]}
    order = draw_order(published["seed"], published["public_value"], list(entries))
    return allocate(order, entries, published["places"])


def check(published: dict) -> list[str]:
    """Return what in a published draw does not hold: an empty list when it all matches."""
    problems = []
    if sha256_hex(published["seed"]) != published["seed_hash"]:
        problems.append("the seed does not have the hash published when entries opened")
    if entries_hash(published["entries"]) != published["entries_hash"]:
        problems.append("the entry list is not the one whose hash was published at the close")
    if recompute(published) != published["outcome"]:
        problems.append("the outcome differs from the one the seed and the list give")
    return problems


def main(argv) -> int:
    """Check the release file named on the command line; say so on standard output."""
    if len(argv) != 2:
        sys.stderr.write("usage: python3 draw.py release.json\n")
        return 2
    with open(argv[1], encoding="utf-8") as file:
        problems = check(json.load(file))
    if problems:
        sys.stdout.write("does not match: " + "; ".join(problems) + "\n")
        return 1
    sys.stdout.write(
        "matches: the published outcome is what the seed, the public value and the list give\n"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
