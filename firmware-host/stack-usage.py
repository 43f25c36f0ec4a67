#!/usr/bin/env python3
"""Worst-case stack of the AVR firmware, from GCC's -fstack-usage and the call graph.

Usage: stack-usage.py ELF SU_DIR RAM_STATIC_BYTES [RAM_TOTAL]

- Each function's own frame comes from the .su files (GCC -fstack-usage); a "dynamic"
  frame fails the check (it would have no bound).
- The call graph comes from the disassembly (avr-objdump -d): call/rcall, and jmp/rjmp to
  the start of another function (a tail call); an icall is resolved through ICALL_TARGETS
  (the core's one function pointer, the UART transmit callback), and an unknown icall fails.
- Every call pushes a 2-byte return address (ATmega328P), so does every interrupt.
- Interrupts: an ISR that re-enables interrupts (contains `sei`: the TENS pulse-compare
  ISRs, while they plan the next pulse) may have the others nest inside it; the worst case
  is main, plus every such ISR once, plus the deepest of the ISRs that do not.
- Recursion fails the check (there is none: the frame decoder rescans in a loop).
Prints the worst case and the path, and exits 1 when it does not fit in the RAM left.
"""
import re
import subprocess
import sys
from pathlib import Path

ICALL_TARGETS = {"mod_send": ["uart_tx"]}
RET = 2  # bytes of return address pushed by call and by an interrupt

def main() -> int:
    elf, su_dir, ram_static = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3])
    ram_total = int(sys.argv[4]) if len(sys.argv) > 4 else 2048
    frame: dict[str, int] = {}
    for su in su_dir.glob("*.su"):
        for line in su.read_text().splitlines():
            loc, size, kind = line.split("\t")
            name = loc.split(":")[-1]
            if "dynamic" in kind and "bounded" not in kind:
                print(f"stack: {name} has a dynamic frame ({kind}); no bound can be given", file=sys.stderr)
                return 1
            frame[name] = max(frame.get(name, 0), int(size))
    dis = subprocess.run(["avr-objdump", "-d", elf], capture_output=True, text=True, check=True).stdout
    calls: dict[str, set[str]] = {}
    sei: set[str] = set()
    cur = None
    for line in dis.splitlines():
        m = re.match(r"^[0-9a-f]+ <([^>]+)>:$", line)
        if m:
            cur = m.group(1)
            calls.setdefault(cur, set())
            continue
        if cur is None:
            continue
        m = re.search(r"\t(r?call|r?jmp|icall|eicall|sei)\b.*?(?:<([^>+]+)>)?\s*$", line)
        if not m:
            continue
        op, target = m.group(1), m.group(2)
        if op == "sei":
            sei.add(cur)
        elif op in ("icall", "eicall"):
            if cur not in ICALL_TARGETS:
                print(f"stack: {cur} makes an indirect call with no known target (add it to ICALL_TARGETS)", file=sys.stderr)
                return 1
            calls[cur].update(ICALL_TARGETS[cur])
        elif target and target != cur and not target.startswith("."):
            calls[cur].add(target)

    memo: dict[str, tuple[int, list[str]]] = {}
    def worst(f: str, stack: tuple[str, ...] = ()) -> tuple[int, list[str]]:
        if f in stack:
            raise RecursionError(" -> ".join(stack + (f,)))
        if f in memo:
            return memo[f]
        best, path = 0, []
        for c in calls.get(f, ()):
            if c.startswith("__") and c not in frame and not c.startswith("__vector"):
                continue  # libgcc helpers: leaf routines with no frame of their own
            w, p = worst(c, stack + (f,))
            if RET + w > best:
                best, path = RET + w, p
        memo[f] = (frame.get(f, 0) + best, [f] + path)
        return memo[f]

    try:
        main_w, main_p = worst("main")
        isrs = sorted(f for f in calls if re.fullmatch(r"__vector_\d+", f))
        def reaches_sei(f: str, seen: set[str]) -> bool:
            if f in sei:
                return True
            seen.add(f)
            return any(reaches_sei(c, seen) for c in calls.get(f, ()) if c not in seen)
        nesting = [f for f in isrs if reaches_sei(f, set())]
        others = [f for f in isrs if f not in nesting]
        total, parts = main_w, [f"main {main_w} B ({' > '.join(main_p)})"]
        for f in nesting:
            w, p = worst(f)
            total += RET + w
            parts.append(f"+ {f} (re-enables interrupts) {RET + w} B ({' > '.join(p)})")
        if others:
            w, f = max((worst(f)[0], f) for f in others)
            total += RET + w
            parts.append(f"+ deepest other interrupt {f} {RET + w} B")
    except RecursionError as e:
        print(f"stack: recursion: {e}", file=sys.stderr)
        return 1
    free = ram_total - ram_static
    print(f"worst-case stack {total} B of {free} B free RAM ({free - total} B to spare)")
    for p in parts:
        print(f"  {p}")
    if total > free:
        print(f"stack: the worst case ({total} B) does not fit in the free RAM ({free} B)", file=sys.stderr)
        return 1
    return 0

if __name__ == "__main__":
    sys.exit(main())
