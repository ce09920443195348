#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only
"""Every slab allocation of gecko.ko is charged to the memory cgroup.

The VM keeps the call site of each object (slub_debug's U) only in the
kmalloc-cg-* caches, where accounted allocations go: that is what finds
the objects gecko.ko leaves behind (tests/vm/lib/leaks.sh). An allocation
without __GFP_ACCOUNT, or a cache of the module's own, would escape it.

    kmod_allocations.py KMOD_DIR

Prints each offending call (file:line) and exits 1 if there is one.
"""
import pathlib
import re
import sys

ALLOC = re.compile(r'\b(k[mz]alloc|kmalloc_array|kcalloc|kmemdup|kstrn?dup|krealloc|'
                   r'kv[mz]alloc|kvcalloc|kvmalloc_array|kmem_cache_z?alloc)\s*\(')
CACHE = re.compile(r'\b(kmem_cache_create(_usercopy)?|KMEM_CACHE)\s*\(')


def call_text(src, start):
    """The call's text from its name to its closing parenthesis."""
    depth = 0
    for i in range(src.index('(', start), len(src)):
        depth += {'(': 1, ')': -1}.get(src[i], 0)
        if depth == 0:
            return src[start:i + 1]
    return src[start:]


def main():
    bad = []
    for path in sorted(pathlib.Path(sys.argv[1]).glob('*.c')):
        if path.name.endswith('.mod.c'):
            continue
        src = path.read_text()
        for m in ALLOC.finditer(src):
            call = call_text(src, m.start())
            if 'GFP_KERNEL_ACCOUNT' not in call and '__GFP_ACCOUNT' not in call:
                bad.append(f'{path.name}:{src.count(chr(10), 0, m.start()) + 1}: not accounted: '
                           f'{" ".join(call.split())}')
        for m in CACHE.finditer(src):
            bad.append(f'{path.name}:{src.count(chr(10), 0, m.start()) + 1}: a cache of its own: '
                       'the VM keeps no call sites for it')
    for line in bad:
        print(line)
    print(f'{len(bad)} allocation(s) of gecko.ko the VM could not trace')
    return 1 if bad else 0


if __name__ == '__main__':
    sys.exit(main())
