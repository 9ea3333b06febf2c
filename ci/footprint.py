#!/usr/bin/env python3
"""Code size of the codec in small programs, on x86-64 and on a Cortex-M4 (run by ci/footprint.sh).

Builds every bench/footprint/*.cpp (and, with COREMQTT_DIR / COREMQTT5_DIR, every
bench/footprint/coremqtt/*.c against that checkout of coreMQTT) for each target, with and without
section garbage collection, and prints what each program adds over bench/footprint/empty.cpp.
Fails when a program does not build or link, or when it contains a C++ exception or unwinding
symbol; with --check, also when a target of the footprint issue is missed.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import dataclasses
import hashlib
import os
import re
import subprocess
import sys
import time
from collections import deque
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ROOT / "bench" / "footprint"
BUILD = ROOT / "build" / "footprint"

# What no program may contain: libstdc++'s throw helpers, the C++ ABI's exception machinery, and
# the unwinder (the generic one and the ARM EHABI one).
FORBIDDEN = re.compile(r"__throw_|__cxa_|_Unwind_|__gxx_personality|__aeabi_unwind")

# Release builds of a firmware: assertions off for every program, ours and coreMQTT's alike.
COMMON = ["-DNDEBUG"]
CXX_FLAGS = ["-std=c++20", "-fno-exceptions", "-fno-rtti", "-Wall", "-Wextra", "-Wpedantic",
             "-Werror", f"-I{ROOT / 'include'}"]
C_FLAGS = ["-std=c11"]
GC_COMPILE = ["-ffunction-sections", "-fdata-sections"]
GC_LINK = ["-Wl,--gc-sections"]

# The targets, judged on the Cortex-M4 (-Os, gc-sections, newlib-nano): flash (text +
# data) a program adds, and sizeof on that 32-bit target. 1 KB = 1024 bytes.
KB = 1024
SIZE_TARGETS = {"client_v311": 3 * KB, "client_v5": 5 * KB}
SIZEOF_TARGETS = {"utf8_view": 8, "binary_view": 8, "publish_view": 48,
                  "largest decode result": 96}


@dataclasses.dataclass(frozen=True)
class Target:
    name: str
    short: str
    cc: str
    cxx: str
    tools: str  # prefix of nm, size, readelf, ar
    flags: tuple[str, ...]
    link: tuple[str, ...]  # the runtime the figures use
    # A second runtime every program must also link against, or None.
    full_link: tuple[str, ...] | None = None


# Cortex-M4: newlib is the toolchain's C library. nosys.specs links libnosys, newlib's own
# bare-metal stubs for the system calls (_sbrk, _write, _exit, ...) that its start-up and exit
# code reference; it ships with the toolchain (Debian's libnewlib-arm-none-eabi), it is not
# something this project provides. nano.specs selects newlib-nano and the libstdc++/libsupc++
# built to match it, which is what most microcontroller projects link (vendor IDEs default to it);
# that libstdc++ is built without exceptions, so a throw helper the codec reaches costs a call to
# abort there. The figures use nano.specs + nosys.specs. Every program must also link with
# nosys.specs alone (the full newlib and libstdc++, where a throw helper drags in the unwinder and
# std::random_device), so a codec that reaches a throw path cannot pass by the choice of library.
M4 = ("-mcpu=cortex-m4", "-mthumb")
M4_TARGET = "cortex-m4 -Os"
TARGETS = [
    Target("x86-64 -Os", "x86 -Os", "gcc", "g++", "", ("-Os",), ()),
    Target("x86-64 -O2", "x86 -O2", "gcc", "g++", "", ("-O2",), ()),
    Target(M4_TARGET, "M4 -Os", "arm-none-eabi-gcc", "arm-none-eabi-g++", "arm-none-eabi-",
           M4 + ("-Os",), ("--specs=nano.specs", "--specs=nosys.specs"), ("--specs=nosys.specs",)),
]


@dataclasses.dataclass(frozen=True)
class Config:
    target: Target
    gc: bool
    full: bool = False  # linked with the target's full_link runtime

    @property
    def label(self) -> str:
        name = self.target.short + (" full" if self.full else "")
        return name + (" gc" if self.gc else "")

    @property
    def dir(self) -> Path:
        slug = re.sub(r"[^A-Za-z0-9]+", "-", self.target.name).strip("-")
        return BUILD / slug / ("gc" if self.gc else "nogc") / ("full" if self.full else "std")


CONFIGS = [Config(t, gc) for t in TARGETS for gc in (False, True)] + \
          [Config(t, gc, True) for t in TARGETS if t.full_link for gc in (False, True)]


@dataclasses.dataclass
class Library:
    name: str  # "mqttwire 1a2b3c4" or "coreMQTT v2.3.1 (2beef047)"
    root: Path | None  # a coreMQTT checkout
    digest: str  # content hash of everything its programs include


@dataclasses.dataclass
class Program:
    name: str
    source: Path
    library: Library

    @property
    def lang(self) -> str:
        return "c++" if self.source.suffix == ".cpp" else "c"

    @property
    def title(self) -> str:
        return f"{self.name} ({self.library.name})"


@dataclasses.dataclass
class Build:
    """One program (or the baseline) in one configuration."""
    program: Program
    config: Config
    obj: Path | None = None  # the program's own object file
    elf: Path | None = None
    map: Path | None = None
    error: str | None = None
    link_error: str | None = None
    text: int = 0
    data: int = 0
    bss: int = 0
    symbols: set[str] = dataclasses.field(default_factory=set)


class Failure(Exception):
    pass


def run(cmd: list[str], **kw) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, capture_output=True, text=True, **kw)


def indent(text: str, n: int, prefix: str = "    ") -> str:
    lines = text.rstrip().splitlines()
    return "\n".join(prefix + line for line in lines[-n:])


def digest_files(paths) -> str:
    h = hashlib.sha256()
    for p in sorted(paths):
        h.update(str(p).encode())
        h.update(p.read_bytes())
    return h.hexdigest()


_tool_ids: dict[str, str] = {}


def tool_id(tool: str) -> str:
    if tool not in _tool_ids:
        try:
            r = run([tool, "--version"])
        except FileNotFoundError:
            raise Failure(f"{tool} not found (ci/install-deps.sh installs it)") from None
        _tool_ids[tool] = r.stdout.splitlines()[0] if r.stdout else tool
    return _tool_ids[tool]


# ---------------------------------------------------------------------------------------------
# Compiling and linking
# ---------------------------------------------------------------------------------------------

def coremqtt_includes(root: Path) -> list[str]:
    src = root / "source"
    dirs = [src / "include", src / "include" / "private", src / "interface"]
    return ["-DMQTT_DO_NOT_USE_CUSTOM_CONFIG"] + [f"-I{d}" for d in dirs if d.is_dir()]


def compile_command(p: Program, c: Config) -> tuple[str, list[str]]:
    flags = list(c.target.flags) + COMMON + (GC_COMPILE if c.gc else [])
    if p.lang == "c++":
        return c.target.cxx, flags + CXX_FLAGS
    flags += C_FLAGS + ["-Wall", "-Wextra", "-Werror"]
    if p.library.root is not None:
        flags += coremqtt_includes(p.library.root)
    return c.target.cc, flags


def object_path(compiler: str, flags: list[str], source: Path, deps: str) -> Path:
    """Where the object of `source` is cached: named by compiler, flags and contents."""
    key = hashlib.sha256("\0".join([tool_id(compiler), compiler, *flags, str(source), deps,
                                    hashlib.sha256(source.read_bytes()).hexdigest()])
                         .encode()).hexdigest()[:20]
    return BUILD / "obj" / f"{source.stem}-{key}.o"


def compile_one(compiler: str, flags: list[str], source: Path, obj: Path) -> str | None:
    """Compiles unless cached; returns the compiler's complaint on failure."""
    if obj.exists():
        os.utime(obj)  # used: kept by prune_cache()
        return None
    obj.parent.mkdir(parents=True, exist_ok=True)
    tmp = obj.with_suffix(f".{os.getpid()}.tmp")
    r = run([compiler, *flags, "-c", str(source), "-o", str(tmp)])
    if r.returncode != 0:
        shown = source.relative_to(ROOT) if source.is_relative_to(ROOT) else source
        return f"does not compile: {compiler} {' '.join(flags)} -c {shown}\n" + \
            indent(r.stderr, 25)
    tmp.replace(obj)
    return None


def coremqtt_objects(lib: Library, c: Config) -> list[tuple[str, list[str], Path, Path]]:
    flags = list(c.target.flags) + COMMON + (GC_COMPILE if c.gc else []) + C_FLAGS + \
        coremqtt_includes(lib.root)
    return [(c.target.cc, flags, s, object_path(c.target.cc, flags, s, lib.digest))
            for s in sorted((lib.root / "source").glob("*.c"))]


def coremqtt_archive(lib: Library, c: Config) -> Path:
    """coreMQTT's sources as a static library: a program links the members it uses, as a
    firmware that builds coreMQTT as a library does."""
    objs = [o for *_, o in coremqtt_objects(lib, c)]
    key = hashlib.sha256("\0".join(map(str, objs)).encode()).hexdigest()[:20]
    archive = BUILD / "lib" / f"coremqtt-{key}.a"
    if archive.exists():
        os.utime(archive)
    else:
        archive.parent.mkdir(parents=True, exist_ok=True)
        tmp = archive.with_suffix(f".{os.getpid()}.tmp")
        r = run([f"{c.target.tools}ar", "rcs", str(tmp), *map(str, objs)])
        if r.returncode != 0:
            raise Failure("ar failed:\n" + indent(r.stderr, 10))
        tmp.replace(archive)
    return archive


def link(b: Build) -> Build:
    if b.error:
        return b
    t, p, c = b.config.target, b.program, b.config
    try:
        inputs = [str(b.obj)]
        if p.library.root is not None:
            inputs.append(str(coremqtt_archive(p.library, c)))
        c.dir.mkdir(parents=True, exist_ok=True)
        stem = p.name if p.library.root is None else f"{p.name}.coremqtt"
        b.elf, b.map = c.dir / f"{stem}.elf", c.dir / f"{stem}.map"
        cmd = [t.cxx, *t.flags, *(t.full_link if c.full else t.link), *(GC_LINK if c.gc else []),
               *inputs, "-o", str(b.elf), f"-Wl,-Map={b.map}"]
        r = run(cmd)
        if r.returncode != 0:
            b.link_error = r.stderr
            # Link again, ignoring what is unresolved, for a map that says what pulled it in.
            run(cmd + ["-Wl,--unresolved-symbols=ignore-all"])
            return b
        r = run([f"{t.tools}size", "-B", "-d", str(b.elf)])
        fields = r.stdout.splitlines()[1].split()
        b.text, b.data, b.bss = int(fields[0]), int(fields[1]), int(fields[2])
        r = run([f"{t.tools}nm", "-a", str(b.elf)])
        b.symbols = {f[-1].split("@")[0] for f in map(str.split, r.stdout.splitlines()) if f}
    except Failure as e:
        b.error = str(e)
    return b


# ---------------------------------------------------------------------------------------------
# Who pulled a forbidden symbol in
# ---------------------------------------------------------------------------------------------

def demangle(names: list[str]) -> list[str]:
    if not names:
        return []
    r = run(["c++filt"], input="\n".join(names))
    out = r.stdout.splitlines() if r.returncode == 0 else names
    return [shorten(n) for n in out]


def shorten(name: str, limit: int = 160) -> str:
    name = name.replace("std::basic_string_view<char, std::char_traits<char> >", "std::string_view")
    return name if len(name) <= limit else name[: limit - 3] + "..."


def section_label(section: str) -> str:
    for prefix in (".text.startup.", ".text.unlikely.", ".text.hot.", ".text."):
        if section.startswith(prefix):
            return section[len(prefix):]
    return section


def reference_graph(readelf: str, obj: Path) -> dict[str, set[str]]:
    """Section -> the sections and undefined symbols its relocations name. The object is built
    with -ffunction-sections, so a text section is one function; "__main__" leads to main."""
    relocs = run([readelf, "-W", "-r", str(obj)]).stdout
    symtab = run([readelf, "-W", "-s", str(obj)]).stdout
    headers = run([readelf, "-W", "-S", str(obj)]).stdout
    section_of_index = {}
    for line in headers.splitlines():
        m = re.match(r"\s*\[\s*(\d+)\]\s+(\S+)", line)
        if m:
            section_of_index[m.group(1)] = m.group(2)
    section_names = set(section_of_index.values())
    defined = {}  # symbol -> its section
    for f in map(str.split, symtab.splitlines()):
        if len(f) >= 8 and f[0].endswith(":") and f[6].isdigit():
            defined[f[7]] = section_of_index.get(f[6], "")
    graph: dict[str, set[str]] = {"__main__": set()}
    current = None
    for line in relocs.splitlines():
        m = re.match(r"Relocation section '\.rela?(\S+)'", line)
        if m:
            current = m.group(1)
            graph.setdefault(current, set())
            continue
        f = line.split()
        if current is None or len(f) < 5 or not re.fullmatch(r"[0-9a-f]+", f[0]):
            continue
        name = f[4]
        if name in section_names:
            graph[current].add(name)
        elif defined.get(name):
            graph[current].add(defined[name])
        else:
            graph[current].add("sym:" + name)
    if defined.get("main"):
        graph["__main__"].add(defined["main"])
    return graph


def path_from_main(graph: dict[str, set[str]], goal: str) -> list[str] | None:
    prev: dict[str, str | None] = {"__main__": None}
    queue = deque(["__main__"])
    while queue:
        node = queue.popleft()
        if node == goal:
            path = []
            while node is not None:
                path.append(node)
                node = prev[node]
            return list(reversed(path))[1:]
        for nxt in sorted(graph.get(node, ())):
            if nxt not in prev:
                prev[nxt] = node
                queue.append(nxt)
    return None


def archive_members(map_file: Path | None) -> list[tuple[str, str, str]]:
    """(member, the file that needed it, the symbol it was needed for), from the link map."""
    if not map_file or not map_file.exists():
        return []
    text = map_file.read_text(errors="replace")
    start = text.find("Archive member included to satisfy reference by file (symbol)")
    if start < 0:
        return []
    parts = text[start:].split("\n\n", 2)
    out, member = [], None
    for line in (parts[1].splitlines() if len(parts) > 1 else []):
        if not line.strip():
            break
        if not line.startswith(" "):
            member = line.strip()
            continue
        m = re.match(r"\s+(\S+)\s+\((.*)\)$", line)
        if m and member:
            out.append((member, m.group(1), m.group(2)))
            member = None
    return out


def short_file(path: str) -> str:
    m = re.search(r"([^/]+\.a\([^)]+\))$", path)
    if m:
        return re.sub(r"^coremqtt-[0-9a-f]+\.a", "coremqtt.a", m.group(1))
    return re.sub(r"-[0-9a-f]{20}\.o$", ".o", Path(path).name)


def member_chain(members, member: str) -> str:
    """`member` <- what needed it <- ... <- the first file outside an archive."""
    by_member = {m: (f, s) for m, f, s in members}
    parts, seen = [], set()
    while member in by_member and member not in seen:
        seen.add(member)
        referrer, symbol = by_member[member]
        parts.append(f"{short_file(member)} [{shorten(symbol, 70)}]")
        member = referrer
    parts.append(short_file(member))
    return " <- ".join(parts)


def explain_link_failure(b: Build) -> str:
    undefined = sorted(set(re.findall(r"undefined reference to `([^']+)'", b.link_error or "")))
    lines = [f"  does not link ({b.config.label}): undefined " + ", ".join(undefined[:6])
             if undefined else f"  does not link ({b.config.label}):\n" + indent(b.link_error, 12)]
    members = archive_members(b.map)
    chains = []
    for m in sorted(set(re.findall(r"/(lib[^/()]+\.a\([^)]+\)): in function", b.link_error or ""))):
        full = next((x for x, _, _ in members if x.endswith("/" + m)), None)
        if full:
            chains.append(member_chain(members, full))
    # A chain that is the tail of a longer one says nothing new.
    lines += ["    " + c for c in chains if not any(c != o and o.endswith(c) for o in chains)]
    return "\n".join(lines)


def explain_symbols(b: Build, graph_obj: Path) -> str:
    """Names the program's functions that reference a forbidden symbol, one call path from main
    to it, and the library members the reference pulled in."""
    lines = []
    graph = reference_graph(f"{b.config.target.tools}readelf", graph_obj)
    direct = sorted({n[4:] for targets in graph.values() for n in targets
                     if n.startswith("sym:") and FORBIDDEN.search(n)})
    for root in direct:
        referrers = sorted(s for s, targets in graph.items() if "sym:" + root in targets)
        lines.append(f"  {demangle([root])[0]} is referenced by:")
        lines += [f"      {name}" for name in demangle([section_label(s) for s in referrers])[:8]]
        path = path_from_main(graph, "sym:" + root)
        if path:
            lines.append("    call path from main:")
            names = demangle([s[4:] if s.startswith("sym:") else section_label(s) for s in path])
            lines += ["      " + "  " * min(d, 12) + "-> " + n for d, n in enumerate(names)]
    members = archive_members(b.map)
    pulled = [m for m, _, s in members if FORBIDDEN.search(s)]
    first = [m for m, f, s in members if FORBIDDEN.search(s) and "(" not in f]
    if pulled:
        lines.append(f"  library members pulled in for such symbols ({b.config.label}, link map):")
        lines += ["      " + member_chain(members, m) for m in first]
        rest = [short_file(m) for m in pulled if m not in first]
        if rest:
            lines.append(f"      and through them {len(rest)} more: " + ", ".join(rest[:12]) +
                         (" ..." if len(rest) > 12 else ""))
    if not direct and not pulled:
        lines.append("  (no reference from the program's own code, and none in the link map)")
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# sizeof on a target
# ---------------------------------------------------------------------------------------------

def probe_sizes(target: Target, lib: Library) -> dict[str, int]:
    source = SOURCES / "probes" / "sizeof.cpp"
    compiler, flags = compile_command(Program("sizeof", source, lib), Config(target, False))
    obj = object_path(compiler, flags, source, lib.digest)
    error = compile_one(compiler, flags, source, obj)
    if error:
        raise Failure(error)
    r = run([f"{target.tools}nm", "-S", "-t", "d", str(obj)])
    prefix = "mqttwire_sizeof"
    return {f[3][len(prefix):]: int(f[1]) for f in map(str.split, r.stdout.splitlines())
            if len(f) == 4 and f[3].startswith(prefix)}


def sizeof_rows(by_target: dict[str, dict[str, int]]) -> list[tuple[str, dict[str, object]]]:
    """label -> {target: size, target + ':name': which type} for the sizeof table."""
    plain = sorted({k[2:] for sizes in by_target.values() for k in sizes if k.startswith("__")})
    order = ["utf8_view", "binary_view", "properties_view", "property", "publish_view"]
    rows = [(n, {t: s.get("__" + n, "-") for t, s in by_target.items()})
            for n in order + [n for n in plain if n not in order] if n in plain]
    for kind, label in (("_alt__", "largest packet view"), ("_result__", "largest decode result")):
        cells: dict[str, object] = {}
        for t, sizes in by_target.items():
            items = {k[len(kind):]: v for k, v in sizes.items() if k.startswith(kind)}
            if items:
                best = max(items, key=lambda k: items[k])
                cells[t], cells[t + ":name"] = items[best], best
        if cells:
            rows.append((label, cells))
    return rows


# ---------------------------------------------------------------------------------------------

def check_program(p: Program, builds: list[Build], index: dict, empty: Program) -> str:
    """What is wrong with `p` in any configuration: does not compile, does not link (and what
    pulled in the unresolved symbol), or holds exception/unwinding symbols (and who referenced
    them). Empty when nothing is."""
    mine = [b for b in builds if b.program is p]
    problems = []
    compile_errors = [b for b in mine if b.error]
    if compile_errors:
        problems.append(f"  in {', '.join(b.config.label for b in compile_errors)}:\n" +
                        indent(compile_errors[0].error, 40, "  "))
    problems += [explain_link_failure(b) for b in mine if b.link_error]
    tainted = []
    for b in mine:
        if b.error or b.link_error:
            continue
        bad = {s for s in b.symbols if FORBIDDEN.search(s)}
        if not b.config.target.full_link:
            # A hosted program's start files reference __cxa_finalize: what the baseline holds
            # is not the program's doing.
            base = index.get((empty.title, b.config))
            bad -= base.symbols if base else set()
        if bad:
            tainted.append((b, bad))
    if tainted:
        problems.append("  exception/unwinding symbols in " + ", ".join(
            f"{b.config.label} ({len(bad)})" for b, bad in tainted) + ": " +
            ", ".join(demangle(sorted(set().union(*(bad for _, bad in tainted)),
                                  key=lambda x: ("__throw_" not in x, x))[:5])) + " ...")
        # Explained from the richest build: the full runtime shows the whole chain. The call graph
        # comes from the gc build's object, which has one section per function.
        b = max(tainted, key=lambda x: (x[0].config.target.full_link is not None,
                                        x[0].config.full, x[0].config.gc))[0]
        graph = index.get((p.title, Config(b.config.target, True, b.config.full)), b)
        problems.append(explain_symbols(b, graph.obj or b.obj))
    return "\n".join(problems)


def build_all(builds: list[Build], pool) -> None:
    """Compiles every distinct object once (the std and full runtimes share them), then links."""
    jobs: dict[Path, tuple[str, list[str], Path]] = {}
    for b in builds:
        compiler, flags = compile_command(b.program, b.config)
        b.obj = object_path(compiler, flags, b.program.source, b.program.library.digest)
        jobs[b.obj] = (compiler, flags, b.program.source)
        if b.program.library.root is not None:
            for compiler, flags, source, obj in coremqtt_objects(b.program.library, b.config):
                jobs[obj] = (compiler, flags, source)
    errors = dict(zip(jobs, pool.map(lambda j: compile_one(*jobs[j], j), jobs)))
    for b in builds:
        b.error = errors.get(b.obj)
        if b.error is None and b.program.library.root is not None:
            b.error = next((errors[o] for *_, o in coremqtt_objects(b.program.library, b.config)
                            if errors.get(o)), None)
    list(pool.map(link, builds))


def self_test(mqttwire: Library, jobs: int) -> int:
    """Proves the checks fail where they must: bench/footprint/probes/throws.cpp reaches a throw
    helper, so on the Cortex-M4 it must be reported with the function that references it, and
    with the full newlib it must not link without gc-sections."""
    m4 = next(t for t in TARGETS if t.name == M4_TARGET)
    configs = [Config(m4, gc, full) for gc in (False, True) for full in (False, True)]
    empty = Program("empty", SOURCES / "empty.cpp", mqttwire)
    throws = Program("throws", SOURCES / "probes" / "throws.cpp", mqttwire)
    builds = [Build(p, c) for c in configs for p in (empty, throws)]
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        build_all(builds, pool)
    index = {(b.program.title, b.config): b for b in builds}
    report = check_program(throws, builds, index, empty)
    expect = {
        "the baseline passes": not check_program(empty, builds, index, empty),
        "the throw helper is found (M4 -Os gc)": "M4 -Os gc (" in report,
        "the referencing function is named": "footprint_self_test_substr" in report,
        "the call path starts at main": "-> main" in report,
        "the throw helper is named": "std::__throw_out_of_range_fmt" in report,
        "the unwinder is found (full newlib)": "unwind-arm.o" in report,
        "the link failure is reported (full newlib, no gc)": "does not link (M4 -Os full)" in report,
    }
    for what, ok in expect.items():
        print(f"{'ok  ' if ok else 'FAIL'} {what}")
    if not all(expect.values()):
        print("\nWhat the checks reported for probes/throws.cpp:\n" + report)
        return 1
    print("footprint --self-test: OK")
    return 0


def prune_cache(days: int = 14) -> None:
    """Objects and archives no run has used for `days` days go (each change of a header leaves a
    generation behind)."""
    limit = time.time() - days * 86400
    for d in (BUILD / "obj", BUILD / "lib"):
        for f in d.glob("*") if d.is_dir() else ():
            if f.stat().st_mtime < limit:
                f.unlink(missing_ok=True)


def mqttwire_library() -> Library:
    files = [p for p in (ROOT / "include").rglob("*") if p.is_file()]
    files += [p for p in SOURCES.glob("*") if p.suffix in (".h", ".hpp")]
    name = "mqttwire"
    r = run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"])
    if r.returncode == 0:
        changed = run(["git", "-C", str(ROOT), "status", "--porcelain", "--", "include",
                       "bench/footprint"]).stdout.strip()
        name += f" {r.stdout.strip()}" + ("+changes" if changed else "")
    return Library(name, None, digest_files(files))


def coremqtt_library(env: str) -> Library | None:
    value = os.environ.get(env)
    if not value:
        return None
    root = Path(value).resolve()
    if not (root / "source" / "core_mqtt_serializer.c").is_file():
        raise Failure(f"{env}={value}: no source/core_mqtt_serializer.c there (a coreMQTT checkout?)")
    header = (root / "source" / "include" / "core_mqtt.h").read_text(errors="replace")
    m = re.search(r'#define\s+MQTT_LIBRARY_VERSION\s+"([^"]+)"', header)
    version = m.group(1) if m else root.name
    r = run(["git", "-C", str(root), "rev-parse", "--short", "HEAD"])
    commit = f" ({r.stdout.strip()})" if r.returncode == 0 else ""
    files = [p for p in (root / "source").rglob("*") if p.is_file()] + [SOURCES / "footprint.h"]
    return Library(f"coreMQTT {version}{commit}", root, digest_files(files))


def fmt_table(header: list[str], rows: list[list[str]], markdown: bool, left: int = 1) -> str:
    if markdown:
        out = ["| " + " | ".join(header) + " |", "|" + "|".join(" --- " for _ in header) + "|"]
        return "\n".join(out + ["| " + " | ".join(r) + " |" for r in rows])
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows)]

    def line(r):
        return "  ".join(str(x).ljust(w) if i < left else str(x).rjust(w)
                         for i, (x, w) in enumerate(zip(r, widths))).rstrip()
    return "\n".join([line(header), line(["-" * w for w in widths])] + [line(r) for r in rows])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--check", action="store_true",
                    help="also fail when a target of the issue (size, sizeof) is missed")
    ap.add_argument("-j", "--jobs", type=int, default=2)
    ap.add_argument("--markdown", action="store_true", help="print the tables as markdown")
    ap.add_argument("--self-test", action="store_true",
                    help="only prove that the checks catch a program reaching a throw helper")
    ap.add_argument("--top", type=int, default=0, metavar="N",
                    help=f"list the N largest symbols each program adds ({M4_TARGET}, gc)")
    args = ap.parse_args()

    try:
        mqttwire = mqttwire_library()
        if args.self_test:
            return self_test(mqttwire, args.jobs)
        core3, core5 = coremqtt_library("COREMQTT_DIR"), coremqtt_library("COREMQTT5_DIR")
    except Failure as e:
        print(f"footprint: {e}", file=sys.stderr)
        return 1

    programs = [Program(p.stem, p, mqttwire) for p in sorted(SOURCES.glob("*.cpp"))
                if p.stem != "empty"]
    for source in sorted((SOURCES / "coremqtt").glob("*.c")):
        lib = core5 if source.stem.endswith("_v5") else core3
        if lib is not None:
            programs.append(Program(source.stem, source, lib))
    # Comparable programs side by side: client_v311 with its coreMQTT twin, then client_v5...
    programs.sort(key=lambda p: (re.sub(r"_v(311|5)$", "", p.name), p.name,
                                 p.library.root is not None))
    empty = Program("empty", SOURCES / "empty.cpp", mqttwire)
    builds = [Build(p, c) for c in CONFIGS for p in [empty, *programs]]

    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        sizes_future = {t.name: pool.submit(probe_sizes, t, mqttwire)
                        for t in TARGETS if t.name in ("x86-64 -Os", M4_TARGET)}
        try:
            build_all(builds, pool)
        except Failure as e:
            print(f"footprint: {e}", file=sys.stderr)
            return 1

    prune_cache()
    index = {(b.program.title, b.config): b for b in builds}

    def baseline(b: Build) -> Build:
        return index[(empty.title, b.config)]

    # Checks: each program builds and links everywhere and holds no exception/unwinding symbol.
    failures = [f"{p.title}:\n{problems}" for p in [empty, *programs]
                if (problems := check_program(p, builds, index, empty))]

    # Sizes.
    missed: list[str] = []
    m4_gc = Config(next(t for t in TARGETS if t.name == M4_TARGET), True)
    header = ["program", "library"] + [c.label for c in CONFIGS] + \
        [f"target ({m4_gc.label}, flash)"]
    rows = []
    for p in programs:
        row = [p.name, p.library.name]
        for c in CONFIGS:
            b = index[(p.title, c)]
            base = baseline(b)
            if b.error or b.link_error or base.error or base.link_error:
                row.append("FAIL")
            else:
                row.append(f"{b.text - base.text} / {b.data + b.bss - base.data - base.bss}")
        target = SIZE_TARGETS.get(p.name) if p.library.root is None else None
        b = index[(p.title, m4_gc)]
        if target is None:
            row.append("")
        elif b.error or b.link_error:
            row.append(f"<= {target}: not built")
            missed.append(f"{p.name}: not built for {m4_gc.label}")
        else:
            base = baseline(b)
            flash = b.text + b.data - base.text - base.data
            row.append(f"<= {target}: {'met' if flash <= target else 'MISSED'}")
            if flash > target:
                missed.append(f"{p.title}: {flash} bytes of flash added on {m4_gc.label}, "
                              f"target {target}")
        rows.append(row)

    print("Bytes each program adds over bench/footprint/empty.cpp: text / data+bss.")
    print("  x86 = g++ (x86-64); M4 = arm-none-eabi-g++ -mcpu=cortex-m4 -mthumb, linked with "
          "--specs=nano.specs --specs=nosys.specs;")
    print("  M4 full = linked with --specs=nosys.specs alone (full newlib and libstdc++); "
          "all: -fno-exceptions -fno-rtti -DNDEBUG;")
    print("  gc = -ffunction-sections -fdata-sections -Wl,--gc-sections; "
          "target: flash (text + data) added, 1 KB = 1024 bytes.")
    print(fmt_table(header, rows, args.markdown, left=2))

    print("\nsizeof, bytes (bench/footprint/probes/sizeof.cpp):")
    probes = {}
    for name, fut in sizes_future.items():
        try:
            probes[name] = fut.result()
        except Failure as e:
            failures.append(f"sizeof probe ({name}):\n" + indent(str(e), 30, "  "))
    srows = []
    for label, cells in sizeof_rows(probes):
        row = [label] + [f"{cells.get(t, '-')}" + (f" ({cells[t + ':name']})"
                                                    if t + ":name" in cells else "")
                         for t in probes]
        limit, m4 = SIZEOF_TARGETS.get(label), cells.get(M4_TARGET)
        if limit is None or not isinstance(m4, int):
            row.append("")
        else:
            row.append(f"<= {limit}: {'met' if m4 <= limit else 'MISSED'}")
            if m4 > limit:
                missed.append(f"sizeof {label}: {m4} bytes on the Cortex-M4, target {limit}")
        srows.append(row)
    print(fmt_table(["type"] + list(probes) + ["target (32-bit)"], srows, args.markdown))

    if args.top > 0:
        for p in programs:
            b = index[(p.title, m4_gc)]
            if b.error or b.link_error:
                continue
            nm = [f"{m4_gc.target.tools}nm", "--size-sort", "-S", "-C"]
            known = {f.split(None, 3)[-1] for f in run(nm + [str(baseline(b).elf)]).stdout.splitlines()}
            added = [f.split(None, 3) for f in run(nm + [str(b.elf)]).stdout.splitlines()]
            added = sorted(((int(f[1], 16), f[3]) for f in added
                            if len(f) == 4 and f[3] not in known), reverse=True)
            print(f"\nLargest symbols {p.title} adds ({m4_gc.label}): "
                  f"{sum(s for s, _ in added)} bytes in {len(added)} symbols")
            for size, name in added[: args.top]:
                print(f"  {size:6d}  {shorten(name, 130)}")

    for f in failures:
        print("\nFAIL " + f)
    if missed:
        print(f"\nTargets missed{'' if args.check else ' (judged with --check)'}:")
        for m in missed:
            print(("MISSED " if args.check else "  ") + m)
    ok = not failures and not (args.check and missed)
    print(f"\nfootprint: {len(programs)} programs in {len(CONFIGS)} configurations, "
          f"{len(failures)} failing" + (f", {len(missed)} target(s) missed" if args.check else "")
          + (": OK" if ok else ""))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
