#!/usr/bin/env python3
"""Golden pair keys and labels hashes, written from docs/contracts.md section 8 (hashlib only; it
does not import the trainer or the extension).

    python3 scripts/golden/make_pair_keys.py          # writes test/golden/pair-keys.json
    python3 scripts/golden/make_pair_keys.py --check  # exits 1 if the file differs

The rules, restated: text(t) is a string as is, or a message list joined as "role: content" with
"\\n\\n" (section 1); enc(s) = len(utf8(s)) as u64 little-endian ++ utf8(s).
- paired {prompt, chosen, rejected} and candidates {prompt, responses: [r0, r1]}: (a, b) = the
  two response texts in ascending order of their UTF-8 bytes (shorter prefix first);
  key = SHA-256(enc(text(prompt)) ++ enc(a) ++ enc(b)); side = 0 when chosen is a, 1 when it is b
  (identical texts 0); candidates have no label yet: side null.
- unpaired {prompt, completion, label}: key = SHA-256(enc(text(prompt)) ++ enc(text(completion))),
  side = 1 for label true, 0 for false.
- a paired record without "prompt" has the implicit prompt split off first (the longest common
  prefix of chosen and rejected, by characters for strings, backing off one space before the
  first difference; by whole messages for message lists; docs/formats.md).
- labels_sha256 = SHA-256 over the usable list of key ++ byte(side); for rpo-unpaired its items,
  a paired record giving its chosen (label true) then its rejected (label false).

test/golden/pair-keys.json: {"version": 1, "cases": [{"name", "record", "prompt_text", "key",
"side", "items": [{"key", "side"}] (rpo-unpaired items of a paired record; unpaired: itself)}],
"labels": [{"name", "method", "cases": [case names in usable-list order], "sha256"}]}
"""

from __future__ import annotations

import hashlib
import json
import struct
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parents[2] / "test" / "golden" / "pair-keys.json"


def text(turns) -> str:
    if isinstance(turns, str):
        return turns
    return "\n\n".join(f"{m['role']}: {m['content']}" for m in turns)


def enc(s: str) -> bytes:
    b = s.encode("utf-8")
    return struct.pack("<Q", len(b)) + b


def implicit_split(chosen, rejected):
    if isinstance(chosen, str):
        n, i = min(len(chosen), len(rejected)), 0
        while i < n and chosen[i] == rejected[i]:
            i += 1
        if 0 < i < n and chosen[i - 1] == " ":
            i -= 1
        return chosen[:i], chosen[i:], rejected[i:]
    i = 0
    while i < len(chosen) and i < len(rejected) and chosen[i]["role"] == rejected[i]["role"] and chosen[i]["content"] == rejected[i]["content"]:
        i += 1
    return chosen[:i], chosen[i:], rejected[i:]


def pair_key(prompt, first, second) -> tuple[str, int]:
    """(key hex, side): side 0 when `first` (chosen) sorts first by UTF-8 bytes, else 1."""
    x, y = text(first).encode("utf-8"), text(second).encode("utf-8")
    a, b = (x, y) if x <= y else (y, x)
    side = 0 if x <= y else 1
    digest = hashlib.sha256(enc(text(prompt)) + struct.pack("<Q", len(a)) + a + struct.pack("<Q", len(b)) + b).hexdigest()
    return digest, side


def item_key(prompt, completion) -> str:
    return hashlib.sha256(enc(text(prompt)) + enc(text(completion))).hexdigest()


def expected(record: dict) -> dict:
    if "chosen" in record:
        if "prompt" in record:
            prompt, chosen, rejected = record["prompt"], record["chosen"], record["rejected"]
        else:
            prompt, chosen, rejected = implicit_split(record["chosen"], record["rejected"])
        key, side = pair_key(prompt, chosen, rejected)
        items = [{"key": item_key(prompt, chosen), "side": 1}, {"key": item_key(prompt, rejected), "side": 0}]
        return {"prompt_text": text(prompt), "key": key, "side": side, "items": items}
    if "responses" in record:
        r0, r1 = record["responses"]
        key, _ = pair_key(record["prompt"], r0, r1)
        return {"prompt_text": text(record["prompt"]), "key": key, "side": None, "items": []}
    key = item_key(record["prompt"], record["completion"])
    side = 1 if record["label"] else 0
    return {"prompt_text": text(record["prompt"]), "key": key, "side": side, "items": [{"key": key, "side": side}]}


def msgs(*pairs):
    return [{"role": r, "content": c} for r, c in pairs]


CASES = [
    ("string", {"prompt": "What is 2+2?", "chosen": "4", "rejected": "5"}),
    ("string-flipped", {"prompt": "What is 2+2?", "chosen": "5", "rejected": "4"}),
    ("candidates", {"prompt": "What is 2+2?", "responses": ["5", "4"]}),
    ("candidates-swapped", {"prompt": "What is 2+2?", "responses": ["4", "5"]}),
    ("messages", {"prompt": msgs(("system", "Be brief."), ("user", "Hi\n\nthere")),
                  "chosen": msgs(("assistant", "Hello.")), "rejected": msgs(("assistant", "Go away."))}),
    ("messages-flipped", {"prompt": msgs(("system", "Be brief."), ("user", "Hi\n\nthere")),
                          "chosen": msgs(("assistant", "Go away.")), "rejected": msgs(("assistant", "Hello."))}),
    # The same text as "messages" written as one string: the same key (keys hash text, not style).
    ("messages-as-string", {"prompt": "system: Be brief.\n\nuser: Hi\n\nthere",
                            "chosen": "assistant: Hello.", "rejected": "assistant: Go away."}),
    ("multi-turn-response", {"prompt": msgs(("user", "Count")),
                             "chosen": msgs(("assistant", "1"), ("user", "more"), ("assistant", "2")),
                             "rejected": msgs(("assistant", "one"))}),
    ("implicit-prompt-string", {"chosen": "\n\nHuman: Hi there\n\nAssistant: Hello!",
                                "rejected": "\n\nHuman: Hi there\n\nAssistant: Go away"}),
    # The common prefix is counted in characters (code points): U+1F600 and U+1F601 share their
    # first UTF-16 code unit (D83D), which is not a character and never becomes the prompt.
    ("implicit-prompt-non-bmp", {"chosen": "Q: \U0001F600", "rejected": "Q: \U0001F601"}),
    ("implicit-prompt-messages", {"chosen": msgs(("user", "Hi"), ("assistant", "Hello!")),
                                  "rejected": msgs(("user", "Hi"), ("assistant", "Go away"))}),
    # UTF-8 byte order: U+FF5E (EF BD 9E) sorts before U+1F600 (F0 9F 98 80); in UTF-16 code
    # units (FF5E vs D83D DE00) the order is the other way round.
    ("non-bmp-order", {"prompt": "pick", "chosen": "\U0001F600", "rejected": "\uFF5E"}),
    ("non-bmp-order-flipped", {"prompt": "pick", "chosen": "\uFF5E", "rejected": "\U0001F600"}),
    ("non-bmp-prompt", {"prompt": "\U0001D11E clef \u00e9", "chosen": "\U00020000 b", "rejected": "\u4e2d a"}),
    # No normalisation: a precomposed e-acute and e + combining acute are different texts.
    ("nfc", {"prompt": "caf\u00e9", "chosen": "yes", "rejected": "no"}),
    ("nfd", {"prompt": "cafe\u0301", "chosen": "yes", "rejected": "no"}),
    ("identical-responses", {"prompt": "Same?", "chosen": "same", "rejected": "same"}),
    ("empty-prompt", {"prompt": "", "chosen": "a", "rejected": "b"}),
    ("empty-response", {"prompt": "p", "chosen": "x", "rejected": ""}),
    ("all-empty", {"prompt": "", "chosen": "", "rejected": ""}),
    ("prefix-shorter-first", {"prompt": "p", "chosen": "abc", "rejected": "ab"}),
    # Lengths make the boundaries part of the key: the same bytes split differently differ.
    ("boundary-1", {"prompt": "ab", "chosen": "c", "rejected": "d"}),
    ("boundary-2", {"prompt": "a", "chosen": "bc", "rejected": "d"}),
    ("unpaired-true", {"prompt": "What is 2+2?", "completion": "4", "label": True}),
    ("unpaired-false", {"prompt": "What is 2+2?", "completion": "5", "label": False}),
    ("unpaired-messages", {"prompt": msgs(("user", "Hi \U0001F600")), "completion": msgs(("assistant", "Hey")), "label": True}),
]

LABELS = [
    ("paired", "rpo", ["string", "messages", "implicit-prompt-string", "non-bmp-order", "identical-responses", "empty-response"]),
    ("paired-one-flipped", "rpo", ["string-flipped", "messages", "implicit-prompt-string", "non-bmp-order", "identical-responses", "empty-response"]),
    ("paired-empty-list", "dpo", []),
    ("unpaired", "rpo-unpaired", ["string", "unpaired-true", "unpaired-messages", "non-bmp-order"]),
]


def build() -> dict:
    cases, by_name = [], {}
    for name, record in CASES:
        case = {"name": name, "record": record, **expected(record)}
        cases.append(case)
        by_name[name] = case
    labels = []
    for name, method, names in LABELS:
        h = hashlib.sha256()
        for n in names:
            entries = by_name[n]["items"] if method == "rpo-unpaired" else [by_name[n]]
            for e in entries:
                h.update(bytes.fromhex(e["key"]) + bytes([e["side"]]))
        labels.append({"name": name, "method": method, "cases": names, "sha256": h.hexdigest()})
    return {"version": 1, "cases": cases, "labels": labels}


def main() -> int:
    text_out = json.dumps(build(), indent=1, ensure_ascii=False) + "\n"
    if "--check" in sys.argv[1:]:
        current = OUT.read_text(encoding="utf-8") if OUT.exists() else ""
        if current != text_out:
            print(f"{OUT} differs from what {Path(__file__).name} generates; run it without --check", file=sys.stderr)
            return 1
        print(f"{OUT} is up to date")
        return 0
    OUT.write_text(text_out, encoding="utf-8")
    print(f"wrote {OUT} ({len(CASES)} cases)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
