"""The README a newcomer reads first: at most 12 KB, the two commands for a
fresh machine before anything else, the same test command as CI's `.ci/run`,
every page of docs/ linked, every local link pointing at a file that exists,
and no issue numbers or changelog in user documents."""

import os
import re
import shlex

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
README = os.path.join(ROOT, "README.md")
DOCS = os.path.join(ROOT, "docs")


def text(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def fenced_blocks(md):
    """``[(language, body)]`` of every fenced code block, in order."""
    return re.findall(r"^```(\w*)\n(.*?)^```", md, flags=re.S | re.M)


def two_commands():
    """The README's first code block, as its two numbered commands: ``{1: [lines], 2: [lines]}``."""
    lang, body = fenced_blocks(text(README))[0]
    assert lang == "bash", lang
    commands, current = {}, None
    for line in body.splitlines():
        m = re.match(r"# (\d)\. ", line)
        if m:
            current = int(m.group(1))
            commands[current] = []
        elif line.strip():
            assert current is not None, f"a line before the first numbered comment: {line}"
            commands[current].append(line.strip())
    return commands


def chain(line):
    """The commands of an ``a && b && c`` line, each as its words, pip's ``-q`` left out."""
    return [[w for w in shlex.split(part) if w != "-q"] for part in line.split("&&")]


def test_the_readme_is_at_most_12_kb():
    size = os.path.getsize(README)
    assert size <= 12 * 1024, f"README.md is {size} bytes"


def test_the_two_commands_come_first():
    md = text(README)
    first_block = md.index("```")
    assert "\n## " not in md[:first_block], "a section comes before the two commands"
    cmds = two_commands()
    assert sorted(cmds) == [1, 2]
    assert cmds[1][-1].endswith("&& sedna demo")
    assert cmds[2][-1].endswith("&& python -m pytest -q -n auto --dist loadscope --no-loadscope-reorder")
    for lines in cmds.values():
        assert any(["pip", "install", "torch==2.13.0"] in chain(line) for line in lines)


def test_command_2_is_what_ci_runs():
    ci = [ln.strip() for ln in text(os.path.join(ROOT, ".ci", "run")).splitlines()
          if ln.strip() and not ln.lstrip().startswith("#")]
    apt = next(ln for ln in ci if "apt-get" in ln)
    tests = ci[-1]
    readme_apt, readme_tests = two_commands()[2]
    assert readme_apt == apt
    # the README's line makes the venv itself; .ci/run has made it on the lines before
    venv = [["python3", "-m", "venv", ".venv"], [".", ".venv/bin/activate"]]
    assert chain(readme_tests) == venv + chain(tests)
    assert "python3 -m venv .venv" in ci and ". .venv/bin/activate" in ci


def test_every_docs_page_is_linked_from_the_readme():
    md = text(README)
    pages = sorted(n for n in os.listdir(DOCS) if n.endswith(".md"))
    assert {"benchmarks.md", "security.md", "operations.md", "compatibility.md", "design.md",
            "worker-contract.md"} <= set(pages)
    missing = [p for p in pages if f"](docs/{p})" not in md and f"](docs/{p}#" not in md]
    assert not missing, f"docs pages the README does not link: {missing}"


def test_local_links_point_at_files_that_exist():
    docs = [README] + [os.path.join(DOCS, n) for n in os.listdir(DOCS) if n.endswith(".md")]
    broken = []
    for path in docs:
        for target in re.findall(r"\]\(([^)\s]+)\)", text(path)):
            if re.match(r"[a-z]+://|#|mailto:", target):
                continue
            file = target.split("#", 1)[0]
            if not os.path.exists(os.path.join(os.path.dirname(path), file)):
                broken.append(f"{os.path.relpath(path, ROOT)}: {target}")
    assert not broken, broken


def test_anchors_into_docs_pages_exist():
    """``page.md#anchor`` and ``#anchor`` links name a heading of that page (GitHub's slugs)."""
    def slugs(md):
        out = set()
        for h in re.findall(r"^#+ (.+)$", md, flags=re.M):
            s = re.sub(r"[^\w\- ]", "", h.strip().lower().replace("`", "")).replace(" ", "-")
            out.add(s)
        return out

    docs = [README] + [os.path.join(DOCS, n) for n in os.listdir(DOCS) if n.endswith(".md")]
    bad = []
    for path in docs:
        for file, anchor in re.findall(r"\]\(([^)\s#]*)#([^)\s]+)\)", text(path)):
            target = os.path.join(os.path.dirname(path), file) if file else path
            if anchor not in slugs(text(target)):
                bad.append(f"{os.path.relpath(path, ROOT)}: {file}#{anchor}")
    assert not bad, bad


def test_no_issue_numbers_or_changelog_in_user_documents():
    docs = [README] + [os.path.join(DOCS, n) for n in os.listdir(DOCS) if n.endswith(".md")]
    for path in docs:
        md = text(path)
        assert not re.search(r"\bissues? \d+|\(#\d+\)|#\d+\b", md), path
        assert not re.search(r"^#+ Status\b|^#+ Changelog\b", md, flags=re.M), path
