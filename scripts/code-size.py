#!/usr/bin/env python3
"""Report files and functions that are too long to read at once.

Usage: code-size.py [--max-file N] [--max-function N] DIR...

A file over --max-file lines (600) or a function body over --max-function
lines (80) is reported as `PATH:LINE: ...`; the exit status is 1 if any is.
Functions are found with a small brace scanner, not a C++ parser: a block
whose header ends in a parameter list, directly inside a namespace, a class
or the file, is a function. Lambdas count toward the function that holds
them, which is what a reader has to hold in mind too.
"""
import argparse
import pathlib
import re
import sys

CONTROL = re.compile(r'^(if|for|while|switch|catch|do|else|try)\b')
TYPE_BLOCK = re.compile(r'\b(namespace|struct|class|union|enum)\b[^()]*$')


def strip(text):
    """Blank out comments and string/char literals, keeping line breaks."""
    out = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith('//', i):
            j = text.find('\n', i)
            j = n if j < 0 else j
            i = j
        elif text.startswith('/*', i):
            j = text.find('*/', i + 2)
            j = n if j < 0 else j + 2
            out.append('\n' * text.count('\n', i, j))
            i = j
        elif text.startswith('R"', i):
            m = re.match(r'R"([^(\s]*)\(', text[i:])
            if not m:
                out.append(c)
                i += 1
                continue
            end = ')' + m.group(1) + '"'
            j = text.find(end, i + m.end())
            j = n if j < 0 else j + len(end)
            out.append('""' + '\n' * text.count('\n', i, j))
            i = j
        elif c in '"\'':
            j = i + 1
            while j < n and text[j] != c:
                j += 2 if text[j] == '\\' else 1
            out.append(c + c)
            i = j + 1
        else:
            out.append(c)
            i += 1
    return ''.join(out)


def header_kind(header):
    h = ' '.join(header.split())
    h = re.sub(r'^(#.*?\s)+', '', h)
    if not h:
        return 'block'
    if TYPE_BLOCK.search(h) and '(' not in h.split('{')[0].split(':')[0]:
        return 'scope'
    if h.startswith('extern "'):
        return 'scope'
    if CONTROL.match(h) or h.endswith('=') or h.endswith(','):
        return 'block'
    # a parameter list, then qualifiers, a trailing return type or an initialiser list
    if re.search(r'\)\s*(const|noexcept|override|final|mutable|&|&&|\s|->[^{]*)*$', h) or \
       re.search(r'\)\s*:\s*\w', h):
        return 'function'
    return 'block'


def functions(text):
    """Yield (name, first_line, body_lines) of each top-level function."""
    clean = strip(text)
    stack = []          # kinds of open blocks
    header_start = 0
    line = 1
    open_line = []
    for i, c in enumerate(clean):
        if c == '\n':
            line += 1
        elif c in ';':
            if not stack or stack[-1] == 'scope':
                header_start = i + 1
        elif c == '{':
            outer = not stack or stack[-1] == 'scope'
            kind = header_kind(clean[header_start:i]) if outer else 'inner'
            stack.append(kind)
            open_line.append((line, clean[header_start:i]))
            header_start = i + 1
        elif c == '}':
            if not stack:
                continue
            kind = stack.pop()
            start, header = open_line.pop()
            if kind == 'function':
                name = re.findall(r'([~\w:]+)\s*\(', header)
                yield (name[0] if name else '?', start, line - start - 1)
            if not stack or stack[-1] == 'scope':
                header_start = i + 1
        elif c in '#' and (i == 0 or clean[i - 1] == '\n'):
            pass
    return


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--max-file', type=int, default=600)
    ap.add_argument('--max-function', type=int, default=80)
    ap.add_argument('dirs', nargs='+')
    args = ap.parse_args()
    bad = 0
    for d in args.dirs:
        for p in sorted(pathlib.Path(d).rglob('*')):
            if p.suffix not in ('.cpp', '.hpp', '.h', '.cc') or not p.is_file():
                continue
            text = p.read_text(errors='replace')
            # preprocessor lines never hold a function body
            text = re.sub(r'(?m)^\s*#.*$', '', text)
            n = text.count('\n')
            if n > args.max_file:
                print(f'{p}:1: {n} lines (limit {args.max_file})')
                bad += 1
            for name, first, length in functions(text):
                if length > args.max_function:
                    print(f'{p}:{first}: function {name} is {length} lines (limit {args.max_function})')
                    bad += 1
    if bad:
        print(f'{bad} over the limits')
    return 1 if bad else 0


if __name__ == '__main__':
    sys.exit(main())
