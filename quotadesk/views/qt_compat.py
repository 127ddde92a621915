"""Two fixes to the Qt bindings, applied before the window makes anything: a guard against a
refcount bug, and a quicker check of every imported module for PySide's feature switches.

PySide6/shiboken6 6.12.0 on CPython 3.11 drops one reference to `None` (or `True`/`False`) on
every call of a binding method that returns nothing (or a bool): `setText`, `setObjectName`,
`Signal.emit`, ... After a few thousand calls the interpreter aborts with "Fatal Python error:
none_dealloc". CPython 3.12+ makes these three objects immortal, which hides the bug; here we
do the same on 3.11, and only when a probe shows that the installed binding really leaks.
"""

from __future__ import annotations

import ctypes
import sys

#: A reference count no program can ever run down (CPython 3.12 uses a similar value).
_IMMORTAL = 1 << 60
_applied = False


def binding_leaks_references() -> bool:
    """Call a void binding method a few times and see whether `None` lost references."""
    from PySide6.QtCore import QObject

    probe = QObject()
    probe.setObjectName("probe")  # warm up caches that may take a reference once
    before = sys.getrefcount(None)
    for _ in range(16):
        probe.setObjectName("probe")
    return sys.getrefcount(None) < before


def guard_binding_refcounts() -> bool:
    """Make None/True/False immortal if the binding leaks their references; True if applied."""
    global _applied
    if _applied:
        return True
    if sys.implementation.name != "cpython" or sys.version_info >= (3, 12):
        return False
    if not binding_leaks_references():
        return False
    for singleton in (None, True, False):
        count = ctypes.c_ssize_t.from_address(id(singleton))
        count.value = max(count.value, _IMMORTAL)
    _applied = True
    return True


def quicken_feature_check() -> bool:
    """PySide6 asks of every module imported after it whether its source mentions
    "PySide6" (to know which modules may switch on `__feature__`s), by `inspect.getsource`:
    a tenth of a second over the four hundred modules the window imports. The same question
    answered by reading the file's bytes; True if the check was replaced."""
    import PySide6.QtCore  # noqa: F401 - loads the feature machinery (3.12+ skips the probe)

    feature = sys.modules.get("shibokensupport.feature")
    original = getattr(feature, "_mod_uses_pyside", None)
    if original is None or getattr(original, "quick", False):
        return False

    def uses_pyside(module: object) -> bool:
        path = getattr(module, "__file__", None)
        if not isinstance(path, str) or not path.endswith(".py"):
            return bool(original(module))
        try:
            with open(path, "rb") as source:
                return b"PySide6" in source.read()
        except OSError:
            return bool(original(module))

    uses_pyside.quick = True  # type: ignore[attr-defined]
    feature._mod_uses_pyside = uses_pyside  # type: ignore[union-attr]
    return True
